import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// One job whose end cannot be written as it is (an event too long for NOTIFY, a result the
/// database refuses, a row written by hand) fails alone, with an error that says why, and
/// every other job of its worker still ends; and shutdown ends on time whatever the
/// completer meets.
@Suite struct NoJobHoldsOthersHostageTests {
    static func registry() -> JobRegistry {
        var registry = JobRegistry()
        registry.register(method: "porter.noop") { _, _ in nil }
        // A result that jsonb refuses (\u0000): the batch that carries it fails as a whole.
        registry.register(method: "app.nul_result") { _, _ in PQJSON(text: #"{"text": "a\u0000b"}"#) }
        return registry
    }

    /// Enqueues five noop jobs after `poison`, runs a worker, and returns the poison's row once
    /// every noop job has finished.
    func runBeside(_ poison: @Sendable (PorterClient) async throws -> Int64) async throws -> (PorterClient, JobRecord) {
        let database = try await TestDatabase.create()
        let porter = database.makeClient(registry: Self.registry())
        try await createSQLJobs(porter)
        let poisonID = try await poison(porter)
        let noops = try await porter.enqueueMany((0..<5).map { _ in EnqueueRequest(method: "porter.noop") }).compactMap(\.id)
        let worker = RunningWorker(porter, fastConfiguration())
        for id in noops { try await waitForJob(porter, id, .finished) }
        let poisoned = try await waitForJob(porter, poisonID, .failed)
        try await worker.shutdown()
        #expect(try #require(poisoned.error).utf8.count <= 4000)
        return (porter, poisoned)
    }

    @Test func aMethodTooLongForOneNotificationFailsAloneAndItsEventsGoByReference() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient(registry: Self.registry())
        let realtime = RealtimeListener(client: porter)
        defer { realtime.stop() }
        try await realtime.start()
        // Only once the schema's owner has raised the limit (256 bytes) can a method be this long.
        try await porter.pool.query("SELECT porter.set_limit('max_method_bytes', 20000)")
        let long = try await porter.pool.query("SELECT porter.enqueue(repeat('m', 4100))").single(Int64.self)
        var events = realtime.events(job: long).makeAsyncIterator()
        let noops = try await porter.enqueueMany((0..<5).map { _ in EnqueueRequest(method: "porter.noop") }).compactMap(\.id)
        let worker = RunningWorker(porter, fastConfiguration())
        for id in noops { try await waitForJob(porter, id, .finished) }
        let failed = try await waitForJob(porter, long, .failed)
        #expect(failed.error?.hasPrefix("unknown method mmm") == true)
        #expect(try #require(failed.error).utf8.count <= 4000)
        // Both of its state events arrived whole. `started` (about 4.3 kB) fits in one
        // notification; `failed` adds the error and goes by reference.
        let started = try #require(await events.next())
        let ended = try #require(await events.next())
        #expect([started.event, ended.event] == ["started", "failed"])
        #expect(started.message.text.contains(String(repeating: "m", count: 4100)))
        #expect(ended.message.text.contains(String(repeating: "m", count: 4100)))
        let stored = try await porter.pool.query(
            "SELECT event FROM porter.realtime_messages WHERE job = \(long)").map { try $0.decode(String.self) }
        #expect(stored == ["failed"])
        try await worker.shutdown()
        await porter.close()
    }

    @Test func anSQLJobRaisingANineKilobyteErrorFailsAloneWithItsErrorCutByBytes() async throws {
        let (porter, failed) = try await runBeside { porter in
            try await porter.pool.query("""
                CREATE FUNCTION app.raise_long(args jsonb) RETURNS void LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION '%', repeat('€', 3000); END $$
                """)
            return try #require(try await porter.enqueue(method: "sql:app.raise_long").id)
        }
        let error = try #require(failed.error)
        #expect(error.contains("€€€"))
        #expect(error.hasSuffix("(cut to 4000 bytes)"))
        // The attempt's entry in errors is cut the same way.
        let logged = try await porter.pool.query(
            "SELECT octet_length(errors->0->>'error') FROM porter.jobs WHERE id = \(failed.id)").single(Int.self)
        #expect(logged <= 4000)
        await porter.close()
    }

    @Test func aTenKilobyteMethodWrittenIntoTheTableByHandFailsAlone() async throws {
        let (porter, failed) = try await runBeside { porter in
            // The table refuses such a method until the schema's owner raises the limit.
            try await porter.pool.query("SELECT porter.set_limit('max_method_bytes', 20000)")
            return try await porter.pool.query(
                "INSERT INTO porter.jobs (method, queue, args) VALUES (repeat('x', 10000), 'default', '{}') RETURNING id"
            ).single(Int64.self)
        }
        #expect(failed.error?.hasPrefix("unknown method xxx") == true)
        await porter.close()
    }

    @Test func aJobWrittenByHandWithAnInfiniteEnqueueTimeRunsAndLeavesTheQueueRunning() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient(registry: Self.registry())
        // The claim measures each job's wait from its run_at or its enqueue, whichever is later;
        // an enqueued_at of 'infinity' (which the table takes) once failed every claim of the
        // queue with "cannot subtract infinite timestamps".
        let odd = try await porter.pool.query(
            "INSERT INTO porter.jobs (method, queue, enqueued_at) VALUES ('porter.noop', 'default', 'infinity') RETURNING id"
        ).single(Int64.self)
        let noops = try await porter.enqueueMany((0..<5).map { _ in EnqueueRequest(method: "porter.noop") }).compactMap(\.id)
        let worker = RunningWorker(porter, fastConfiguration())
        for id in noops + [odd] { try await waitForJob(porter, id, .finished) }
        try await worker.shutdown()
        await porter.close()
    }

    @Test func aResultTheDatabaseRefusesFailsOnlyItsOwnJobSayingWhy() async throws {
        let (porter, failed) = try await runBeside { porter in
            try #require(try await porter.enqueue(method: "app.nul_result").id)
        }
        #expect(failed.error?.hasPrefix("Porter could not record this attempt's end (finished)") == true)
        #expect(failed.error?.contains("22P05") == true)
        await porter.close()
    }

    @Test func shutdownEndsByItsDeadlineEvenWhileAnEndCannotBeWritten() async throws {
        let database = try await TestDatabase.create()
        let release = AsyncStream<Void>.makeStream()
        var registry = JobRegistry()
        registry.register(method: "app.gated") { _, _ in
            for await _ in release.stream { break }
            return nil
        }
        let porter = database.makeClient(registry: registry)
        let id = try #require(try await porter.enqueue(method: "app.gated").id)
        let worker = RunningWorker(porter, fastConfiguration { $0.shutdownGrace = .seconds(1) })
        try await waitForJob(porter, id, .started)
        // Another transaction holds the job's row: the worker's write of its end waits on it.
        let blocker = try await database.connect()
        try await blocker.execute("BEGIN")
        try await blocker.query("SELECT 1 FROM porter.jobs WHERE id = \(id) FOR UPDATE")
        release.continuation.yield()
        try await Task.sleep(for: .milliseconds(300))
        // Shutdown ends (after shutdown_grace, 1 s, and the completer's deadline) while the
        // blocker still holds the row: the old worker never ended. The deadline is generous;
        // the blocker is only released after it.
        let ended = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await worker.shutdown()
                return true
            }
            group.addTask {
                try await Task.sleep(for: .seconds(120))
                // Failed: let the stuck write through, so the test ends instead of hanging.
                try await blocker.execute("ROLLBACK")
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(ended, "the worker did not shut down while an end could not be written")
        try await blocker.execute("ROLLBACK")
        // Nothing was written: the job stays started until a rescuer requeues it.
        #expect(try await porter.job(id: id)?.status == .started)
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.workers").single(Int.self) == 0)
        await blocker.close()
        await porter.close()
    }
}

@Suite(.serialized) struct PoisonJobWorkerProcessTests {
    @Test func aWorkerProcessBesidePoisonJobsEndsTheOthersAndExitsZeroOnSIGTERM() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        try await porter.pool.query("""
            CREATE FUNCTION app.raise_long(args jsonb) RETURNS void LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '%', repeat('€', 3000); END $$
            """)
        try await porter.pool.query("SELECT porter.set_limit('max_method_bytes', 20000)")
        var poison = [try await porter.pool.query("SELECT porter.enqueue(repeat('m', 4100))").single(Int64.self)]
        poison.append(try #require(try await porter.enqueue(method: "sql:app.raise_long").id))
        poison.append(try await porter.pool.query(
            "INSERT INTO porter.jobs (method, queue, args) VALUES (repeat('x', 10000), 'default', '{}') RETURNING id"
        ).single(Int64.self))
        let noops = try await porter.enqueueMany((0..<5).map { _ in EnqueueRequest(method: "porter.noop") }).compactMap(\.id)
        let worker = try WorkerProcess(database: database, config: """
            {"sql_schemas": ["app"], "workers": {"default": {"background_workers": 4}},
             "poll_interval": 0.2, "heartbeat_interval": 0.3, "rescue_after": 4, "maintenance_interval": 0.3,
             "shutdown_grace": 2}
            """)
        for id in noops { try await waitForJob(porter, id, .finished) }
        for id in poison { try await waitForJob(porter, id, .failed) }
        worker.kill(SIGTERM)
        // shutdown_grace (2 s) + 5 s.
        #expect(try await worker.waitForExit(timeout: .seconds(7)) == 0, "\(worker.output)")
        await porter.close()
    }
}
