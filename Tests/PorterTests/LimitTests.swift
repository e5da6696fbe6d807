import Foundation
import Logging
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// The limits of porter.settings hold for every session, only the schema's owner changes them,
/// and the table refuses every row the worker could not resolve, whoever writes it.
@Suite struct LimitTests {
    @Test func aSessionCannotRaiseTheArgsLimitWithTheOldSettingOnlyLowerIt() async throws {
        let database = try await TestDatabase.create()
        let connection = try await database.connect()
        try await connection.execute("SET porter.max_args_bytes = 2000000000")
        let raised = try await #require(throws: PQError.self) {
            try await connection.query("SELECT porter.enqueue('m', jsonb_build_object('blob', repeat('x', 5000000)))")
        }
        #expect(raised.sqlState == .programLimitExceeded)
        #expect(raised.column == "args")
        #expect(raised.message.contains("over the limit of 1048576 bytes"))
        let batch = try await #require(throws: PQError.self) {
            try await connection.query(
                "SELECT * FROM porter.enqueue_many(jsonb_build_array(jsonb_build_object('method', 'm', 'args', jsonb_build_object('blob', repeat('x', 5000000)))))")
        }
        #expect(batch.sqlState == .programLimitExceeded)
        try await connection.execute("SET porter.max_args_bytes = 100")
        let lowered = try await #require(throws: PQError.self) {
            try await connection.query("SELECT porter.enqueue('m', jsonb_build_object('blob', repeat('x', 200)))")
        }
        #expect(lowered.message.contains("over the limit of 100 bytes"))
        #expect(try await jobCount(database) == 0)
        await connection.close()
    }

    /// Statements over a byte limit, and the parameter each error names.
    static let oversize = [
        ("SELECT porter.enqueue(repeat('m', 257))", "method"),
        ("SELECT porter.enqueue('m', queue => repeat('q', 129))", "queue"),
        ("SELECT porter.enqueue('m', job_id => repeat('j', 513))", "job_id"),
        ("SELECT porter.enqueue('m', job_id => repeat('é', 257))", "job_id"),
        ("SELECT * FROM porter.enqueue_many(jsonb_build_array(jsonb_build_object('method', 'ok'), jsonb_build_object('method', repeat('m', 257))))", "method"),
        ("SELECT porter.enqueue_doc('Outlet', 'A1', 'sync', queue => repeat('q', 129))", "queue"),
        ("SELECT porter.publish_realtime(repeat('e', 129))", "event"),
        ("SELECT porter.publish_realtime('e', jsonb_build_object('blob', repeat('x', 1100000)))", "message"),
    ]

    @Test func aNameOrMessageOverItsByteLimitIsRefusedNamingIt() async throws {
        let database = try await TestDatabase.create()
        let connection = try await database.connect()
        for (sql, column) in Self.oversize {
            let error = try await #require(throws: PQError.self, "\(sql)") { try await connection.query(PQQuery(stringLiteral: sql)) }
            #expect(error.sqlState == .programLimitExceeded, "\(sql)")
            #expect(error.column == column, "\(sql)")
            #expect(error.hint?.contains("porter.set_limit") == true, "\(sql)")
        }
        #expect(try await jobCount(database) == 0)
        #expect(try await connection.query("SELECT count(*) FROM porter.realtime_messages").single(Int.self) == 0)
        await connection.close()
    }

    @Test func aNameOverItsLimitIsATypedErrorInSwift() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let error = try await #require(throws: PorterError.self) {
            try await porter.enqueue(method: String(repeating: "m", count: 300))
        }
        #expect(error.code == .invalidArgument(parameter: "method"))
        #expect(error.sqlState == .programLimitExceeded)
        let infinite = try await #require(throws: PorterError.self) {
            try await porter.enqueue(method: "m", options: EnqueueOptions(runAt: .distantFuture.addingTimeInterval(1e300)))
        }
        #expect(infinite.code == .invalidArgument(parameter: "run_at"))
        await porter.close()
    }

    @Test func theSchemasOwnerChangesALimitAndTheTableFollows() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.pool.query("SELECT porter.set_limit('max_method_bytes', 300)")
        #expect(try await porter.enqueue(method: String(repeating: "m", count: 290)).id != nil)
        let table = try await #require(throws: PQError.self) {
            try await porter.pool.query("INSERT INTO porter.jobs (method) VALUES (repeat('m', 301))")
        }
        #expect(table.constraint == "jobs_method_within_limit")
        // Not below a job still waiting: its next update would be refused.
        let lowering = try await #require(throws: PQError.self) {
            try await porter.pool.query("SELECT porter.set_limit('max_method_bytes', 100)")
        }
        #expect(lowering.sqlState == .invalidParameterValue)
        #expect(lowering.message.contains("1 waiting or running jobs are over max_method_bytes = 100"))
        for bad in ["SELECT porter.set_limit('max_thing', 5)", "SELECT porter.set_limit('max_args_bytes', 0)",
                    "SELECT porter.set_limit('max_args_bytes', 300000000)", "SELECT porter.set_limit('max_queue_bytes', NULL)"] {
            let error = try await #require(throws: PQError.self) { try await porter.pool.query(PQQuery(stringLiteral: bad)) }
            #expect(error.sqlState == .invalidParameterValue, "\(bad)")
        }
        try await porter.pool.query("SELECT porter.set_limit('max_args_bytes', 5000000)")
        #expect(try await porter.enqueue(method: "m", args: PQJSON(text: #"{"blob": "\#(String(repeating: "x", count: 2_000_000))"}"#)).id != nil)
        #expect(try await porter.pool.query("SELECT max_args_bytes FROM porter.settings").single(Int.self) == 5_000_000)
        await porter.close()
    }

    @Test func storedRealtimeMessagesAreCapped() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.pool.query("SELECT porter.set_limit('max_stored_messages', 2)")
        let big = PQJSON(text: #"{"blob": "\#(String(repeating: "x", count: 10_000))"}"#)
        try await porter.publishRealtime(event: "big", message: big)
        try await porter.publishRealtime(event: "big", message: big)
        let error = try await #require(throws: PQError.self) { try await porter.publishRealtime(event: "big", message: big) }
        #expect(error.sqlState == .programLimitExceeded)
        #expect(error.message.contains("2 messages too large for NOTIFY are stored"))
        // Small messages are not stored, so they still go out.
        try await porter.publishRealtime(event: "small")
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.realtime_messages").single(Int.self) == 2)
        await porter.close()
    }

    /// Rows a plain INSERT stored that no worker would ever resolve, and the constraint that
    /// now refuses each.
    static let unresolvable = [
        ("INSERT INTO porter.jobs (method, status) VALUES ('m', 'deferred')", "jobs_deferred_has_parents"),
        ("INSERT INTO porter.jobs (method, status, depends_on) VALUES ('m', 'deferred', '{}')", "jobs_deferred_has_parents"),
        ("INSERT INTO porter.jobs (method, status, depends_on) VALUES ('m', 'deferred', '{NULL}')", "jobs_depends_on_no_nulls"),
        ("INSERT INTO porter.jobs (id, method, status, depends_on) VALUES (77, 'm', 'deferred', '{77}')", "jobs_depends_on_not_self"),
        ("INSERT INTO porter.jobs (method, run_at) VALUES ('m', 'infinity')", "jobs_run_at_finite"),
        ("INSERT INTO porter.jobs (method, status, run_at) VALUES ('m', 'scheduled', '-infinity')", "jobs_run_at_finite"),
        ("INSERT INTO porter.jobs (method, status) VALUES ('m', 'finished')", "jobs_ended_at_when_ended"),
        ("INSERT INTO porter.jobs (method, ended_at) VALUES ('m', now())", "jobs_ended_at_when_ended"),
        ("INSERT INTO porter.jobs (method, status, ended_at) VALUES ('m', 'failed', 'infinity')", "jobs_ended_at_finite"),
        ("INSERT INTO porter.jobs (method, orphaned) VALUES ('m', -1000)", "jobs_orphaned_not_negative"),
        ("INSERT INTO porter.jobs (method, errors) VALUES ('m', '{}')", "jobs_errors_is_array"),
        ("INSERT INTO porter.jobs (method, args) VALUES ('m', jsonb_build_object('blob', repeat('x', 2000000)))", "jobs_args_within_limit"),
        ("INSERT INTO porter.jobs (method) VALUES (repeat('x', 10000))", "jobs_method_within_limit"),
        ("INSERT INTO porter.jobs (method, queue) VALUES ('m', repeat('q', 200))", "jobs_queue_within_limit"),
        ("INSERT INTO porter.jobs (method, job_id) VALUES ('m', repeat('j', 1000))", "jobs_job_id_within_limit"),
    ]

    @Test func aPlainInsertCannotStoreARowTheWorkerCouldNotResolve() async throws {
        let database = try await TestDatabase.create()
        let connection = try await database.connect()
        for (sql, constraint) in Self.unresolvable {
            let error = try await #require(throws: PQError.self, "\(sql)") { try await connection.query(PQQuery(stringLiteral: sql)) }
            #expect(error.sqlState == .checkViolation, "\(sql)")
            #expect(error.constraint == constraint, "\(sql)")
        }
        #expect(try await jobCount(database) == 0)
        await connection.close()
    }

    /// A deferred job is released only when a parent ends: one written by hand after its
    /// parents had ended waited for ever. It is checked as an enqueue checks it.
    @Test func aDeferredJobWrittenByHandIsCheckedAgainstItsParentsAsAnEnqueueIs() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient(maximumConnections: 2)
        let done = try #require(try await porter.enqueue(method: "p").id)
        let dead = try #require(try await porter.enqueue(method: "p.dead").id)
        try await porter.pool.query("UPDATE porter.jobs SET status = 'finished', ended_at = now() WHERE id = \(done)")
        try await porter.pool.query("UPDATE porter.jobs SET status = 'failed', ended_at = now() WHERE id = \(dead)")
        let waiting = try #require(try await porter.enqueue(method: "p.running").id)
        func deferred(_ parents: String) async throws -> Int64 {
            try await porter.pool.query(
                "INSERT INTO porter.jobs (method, status, depends_on) VALUES ('c', 'deferred', \(unsafeRaw: parents)) RETURNING id"
            ).single(Int64.self)
        }
        let afterFinished = try await deferred("ARRAY[\(done)]::bigint[]")
        let afterFailed = try await deferred("ARRAY[\(done), \(dead)]::bigint[]")
        let stillWaiting = try await deferred("ARRAY[\(done), \(waiting)]::bigint[]")
        #expect(try await porter.job(id: afterFinished)?.status == .queued)
        let canceled = try #require(try await porter.job(id: afterFailed))
        #expect(canceled.status == .canceled)
        #expect(canceled.error == "canceled: job \(dead) (p.dead), which this job depends on, failed")
        #expect(try await porter.job(id: stillWaiting)?.status == .deferred)
        // Its parent's end releases it, as for an enqueued dependant.
        try await porter.pool.query("UPDATE porter.jobs SET status = 'finished', ended_at = now() WHERE id = \(waiting)")
        #expect(try await porter.job(id: stillWaiting)?.status == .queued)
        let missing = try await #require(throws: PQError.self) { try await deferred("ARRAY[999999]::bigint[]") }
        #expect(missing.sqlState == .invalidParameterValue)
        #expect(missing.column == "depends_on")
        await porter.close()
    }

    @Test func aJobStoredWithCountsAtTheIntegersMaximumIsClaimedAndRescuedWithoutHoldingOthers() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(method: "porter.noop") { _, _ in nil }
        let porter = database.makeClient(registry: registry)
        let maxed = try await porter.pool.query(
            "INSERT INTO porter.jobs (method, attempts, max_attempts) VALUES ('porter.noop', 2147483647, 2147483647) RETURNING id"
        ).single(Int64.self)
        let orphan = try await porter.pool.query(
            "INSERT INTO porter.jobs (method, status, worker_id, attempts, orphaned) VALUES ('porter.noop', 'started', 'gone', 1, 2147483647) RETURNING id"
        ).single(Int64.self)
        let others = try await porter.enqueueMany((0..<5).map { _ in EnqueueRequest(method: "porter.noop") }).compactMap(\.id)
        let worker = RunningWorker(porter, fastConfiguration())
        for id in others { try await waitForJob(porter, id, .finished) }
        try await waitForJob(porter, maxed, .finished)
        let poisoned = try await waitForJob(porter, orphan, .failed)
        #expect(poisoned.error?.contains("poison") == true)
        try await worker.shutdown()
        await porter.close()
    }
}
