import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

@Suite struct EnqueueTests {
    /// Swift calls porter.enqueue by position; the order it writes comes from one list, which
    /// must be the function's own.
    @Test func swiftPassesPorterEnqueuesArgumentsInItsSignaturesOrder() async throws {
        let database = try await TestDatabase.create()
        let connection = try await database.connect()
        let signatures = try await connection.query("""
            SELECT proargnames::text[] FROM pg_catalog.pg_proc
            WHERE proname = 'enqueue' AND pronamespace = 'porter'::regnamespace
            """).map { try $0.decode([String].self, at: 0) }
        #expect(signatures == [JobQueries.enqueueParameters])
        await connection.close()
    }

    @Test func jobCommitsWithTheCallersTransaction() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.pool.query("CREATE TABLE orders (id int PRIMARY KEY)")

        let result = try await porter.pool.withTransaction { transaction in
            try transaction.query("INSERT INTO orders VALUES (\(7))")
            return try await porter.enqueue(GenerateReport(outletGroup: "north"), on: transaction)
        }
        let id = try #require(result.id)
        let job = try #require(try await porter.job(id: id))
        #expect(job.method == "reports.generate")
        #expect(job.status == .queued)
        #expect(job.queue == "default")
        #expect(try job.decodeArgs(as: GenerateReport.self).outletGroup == "north")
        #expect(try await porter.pool.query("SELECT count(*) FROM orders").single(Int.self) == 1)
        await porter.close()
    }

    @Test func rolledBackTransactionLeavesNeitherRowNorJob() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.pool.query("CREATE TABLE orders (id int PRIMARY KEY)")
        struct Declined: Error {}
        await #expect(throws: Declined.self) {
            try await porter.pool.withTransaction { transaction in
                try transaction.query("INSERT INTO orders VALUES (\(7))")
                try await porter.enqueue(GenerateReport(), on: transaction)
                throw Declined()
            }
        }
        #expect(try await jobCount(database) == 0)
        #expect(try await porter.pool.query("SELECT count(*) FROM orders").single(Int.self) == 0)
        await porter.close()
    }

    @Test func optionsAreStoredOnTheJob() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let runAt = Date().addingTimeInterval(3600)
        let result = try await porter.enqueue(
            method: "app.tasks.sync", args: PQJSON(text: #"{"outlet": "A1"}"#),
            options: EnqueueOptions(
                queue: "long", timeout: 1500, jobID: "sync-A1", atFront: true, runAt: runAt, priority: -5,
                maxAttempts: 3))
        let id = try #require(result.id)
        let job = try #require(try await porter.job(id: id))
        #expect(job.queue == "long")
        #expect(job.timeout == 1500)
        #expect(job.jobID == "sync-A1")
        #expect(job.atFront)
        #expect(job.priority == -5)
        #expect(job.maxAttempts == 3)
        #expect(abs(job.runAt.timeIntervalSince(runAt)) < 0.001)
        #expect(job.status == .scheduled)
        #expect(job.args.text == #"{"outlet": "A1"}"#)
        await porter.close()
    }

    @Test func delayIsMeasuredOnTheDatabaseClock() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let id = try #require(try await porter.enqueue(GenerateReport(), options: EnqueueOptions(delay: .seconds(90))).id)
        let delay = try await porter.pool.query("SELECT extract(epoch FROM run_at - enqueued_at)::float8 FROM porter.jobs WHERE id = \(id)").single(Double.self)
        #expect(abs(delay - 90) < 0.5)
        #expect(try await porter.job(id: id)?.status == .scheduled)
        await porter.close()
    }

    @Test func deduplicateSkipsWhileAnActiveJobHasTheSameJobID() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let options = EnqueueOptions(jobID: "sync-stock", deduplicate: true)
        let first = try await porter.enqueue(GenerateReport(), options: options)
        let second = try await porter.enqueue(GenerateReport(), options: options)
        #expect(first.id != nil)
        #expect(second == .duplicate(jobID: "sync-stock"))

        // Once the active job has ended, the same job_id may run again.
        try await porter.pool.query("UPDATE porter.jobs SET status = 'finished', ended_at = now() WHERE id = \(first.id!)")
        let third = try await porter.enqueue(GenerateReport(), options: options)
        #expect(third.id != nil && third.id != first.id)
        #expect(try await jobCount(database, where: "job_id = 'sync-stock'") == 2)
        await porter.close()
    }

    @Test func fiftyConcurrentEnqueuersOfOneJobIDLeaveExactlyOneActiveJob() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient(maximumConnections: 50)
        let results = try await withThrowingTaskGroup(of: EnqueueResult.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await porter.enqueue(
                        GenerateReport(), options: EnqueueOptions(jobID: "rebuild-all", deduplicate: true))
                }
            }
            return try await group.reduce(into: [EnqueueResult]()) { $0.append($1) }
        }
        #expect(results.filter { $0.id != nil }.count == 1)
        #expect(results.filter(\.isDuplicate).count == 49)
        #expect(try await jobCount(database, where: "job_id = 'rebuild-all' AND status IN ('queued', 'scheduled', 'started')") == 1)
        await porter.close()
    }

    @Test func duplicateJobIDWithoutDeduplicateIsAnErrorNamingIt() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.enqueue(GenerateReport(), options: EnqueueOptions(jobID: "nightly"))
        let error = try await #require(throws: PorterError.self) {
            try await porter.enqueue(GenerateReport(), options: EnqueueOptions(jobID: "nightly"))
        }
        #expect(error.code == .duplicateJob(jobID: "nightly"))
        #expect(error.sqlState == .uniqueViolation)
        #expect(error.message.contains("'nightly'"))
        #expect(try await jobCount(database) == 1)
        await porter.close()
    }

    @Test func enqueueManyInsertsABatchInOneStatementAndHonoursDedup() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.enqueue(GenerateReport(), options: EnqueueOptions(jobID: "already-active"))
        let requests = [
            try EnqueueRequest(GenerateReport(outletGroup: "a")),
            try EnqueueRequest(GenerateReport(outletGroup: "b"), options: EnqueueOptions(queue: "short", jobID: "b", deduplicate: true)),
            try EnqueueRequest(GenerateReport(outletGroup: "b again"), options: EnqueueOptions(jobID: "b", deduplicate: true)),
            try EnqueueRequest(GenerateReport(), options: EnqueueOptions(jobID: "already-active", deduplicate: true)),
            EnqueueRequest(method: "sql:app.refresh", options: EnqueueOptions(delay: .seconds(60))),
        ]
        let results = try await porter.enqueueMany(requests)
        #expect(results.count == 5)
        #expect(results[0].id != nil && results[1].id != nil && results[4].id != nil)
        #expect(results[2] == .duplicate(jobID: "b"))
        #expect(results[3] == .duplicate(jobID: "already-active"))
        let b = try #require(try await porter.job(id: results[1].id!))
        #expect(b.queue == "short")
        #expect(try b.decodeArgs(as: GenerateReport.self).outletGroup == "b")
        #expect(try await porter.job(id: results[4].id!)?.status == .scheduled)
        #expect(try await jobCount(database) == 4)

        // A bad element fails the whole batch, and nothing of it is inserted.
        let bad = [try EnqueueRequest(GenerateReport()), EnqueueRequest(method: "")]
        let error = try await #require(throws: PorterError.self) { try await porter.enqueueMany(bad) }
        #expect(error.code == .invalidArgument(parameter: "method"))
        #expect(try await jobCount(database) == 4)
        await porter.close()
    }

    @Test func enqueueManyOfTypedJobsOnTheCallersTransaction() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let results = try await porter.pool.withTransaction { transaction in
            try await porter.enqueueMany((0..<1000).map { GenerateReport(outletGroup: "g\($0)") }, options: EnqueueOptions(queue: "long"), on: transaction)
        }
        #expect(results.compactMap(\.id).count == 1000)
        #expect(try await jobCount(database, where: "queue = 'long' AND status = 'queued'") == 1000)
        // Results come back in request order.
        let last = try #require(try await porter.job(id: results[999].id!))
        #expect(try last.decodeArgs(as: GenerateReport.self).outletGroup == "g999")
        await porter.close()
    }

    @Test func nowModeRunsTheHandlerInlineAndInsertsNothing() async throws {
        let database = try await TestDatabase.create()
        let ran = Ran()
        var registry = JobRegistry()
        registry.register(GenerateReport.self) { job, context in
            await ran.record(job.outletGroup ?? "", context.id)
        }
        let porter = database.makeClient(registry: registry)
        let result = try await porter.enqueue(GenerateReport(outletGroup: "inline"), options: EnqueueOptions(now: true))
        #expect(result == .ranInline(result: nil))
        #expect(await ran.calls == ["inline"])
        #expect(try await jobCount(database) == 0)

        let unknown = try await #require(throws: PorterError.self) {
            try await porter.enqueue(method: "no.such.method", options: EnqueueOptions(now: true))
        }
        #expect(unknown.code == .unknownMethod("no.such.method"))
        // Inline runs get the same argument rules as a real enqueue.
        let invalid = try await #require(throws: PorterError.self) {
            try await porter.enqueue(GenerateReport(), options: EnqueueOptions(timeout: 0, now: true))
        }
        #expect(invalid.code == .invalidArgument(parameter: "timeout"))
        #expect(await ran.calls == ["inline"])
        await porter.close()
    }
}

actor Ran {
    var calls: [String] = []
    func record(_ call: String, _ id: Int64?) { calls.append(call) }
}
