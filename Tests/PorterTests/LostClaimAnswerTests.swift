import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// A claim can commit on the server and never reach its worker: its answer lost with the
/// connection (a PgBouncer KILL, a network cut). The worker never runs those jobs, and while
/// it lives no rescuer takes them. Its held-jobs check finds them and hands them back, so they
/// run once, soon, instead of staying started until the worker stops.
@Suite struct LostClaimAnswerTests {
    /// The runs of each job, in this process.
    actor Runs {
        private(set) var count: [Int64: Int] = [:]
        func ran(_ id: Int64) { count[id, default: 0] += 1 }
    }

    struct Quick: Job {
        static let method = "test.lost_answer.quick"
    }

    struct Long: Job {
        static let method = "test.lost_answer.long"
    }

    static func registry(_ runs: Runs) -> JobRegistry {
        var registry = JobRegistry()
        registry.register(Quick.self) { _, context in await runs.ran(context.id ?? -1) }
        registry.register(Long.self) { _, context in
            await runs.ran(context.id ?? -1)
            try await Task.sleep(for: .seconds(60))
        }
        return registry
    }

    @Test func aClaimWhoseAnswerWasLostIsHandedBackAndItsJobRunsOnce() async throws {
        let database = try await TestDatabase.create()
        let proxy = try await FreezableProxy.start(for: database)
        defer { proxy.close() }
        let runs = Runs()
        let behindProxy = PorterClient(
            pool: PQPool(try PQConfiguration(proxy.connectionString(for: database)), maximumConnections: 4),
            registry: Self.registry(runs))
        let worker = RunningWorker(behindProxy, fastConfiguration(), queues: ["default"])
        let porter = database.makeClient()
        try await waitUntil(timeout: .seconds(15), "the worker to register") {
            try await porter.pool.query("SELECT count(*) FROM porter.workers WHERE id = \(worker.id)").single(Int.self) == 1
        }

        // The claim that takes the job commits; its answer, the only one that names the job's
        // method, dies with its connection.
        proxy.cutConnection(atAnswerContaining: Quick.method)
        let id = try #require(try await porter.enqueue(Quick()).id)

        let job = try await waitForJob(porter, id, .finished, timeout: .seconds(30))
        let ranTimes = await runs.count[id] ?? 0
        #expect(ranTimes == 1, "the job ran \(ranTimes) times")
        #expect(job.orphaned == 1)
        #expect(job.attempts == 1)
        let errors = try await porter.pool.query(
            "SELECT errors::text FROM porter.jobs WHERE id = \(id)").single(String.self)
        #expect(errors.contains("its answer never arrived"), "errors: \(errors)")

        try await worker.shutdown()
        await behindProxy.close()
        await porter.close()
    }

    @Test func aJobHeldButNeverReceivedIsHandedBackWhileARunningOneIsKept() async throws {
        let database = try await TestDatabase.create()
        let runs = Runs()
        let porter = database.makeClient(registry: Self.registry(runs))
        let configuration = fastConfiguration { $0.queues["default"] = QueueConfiguration(timeout: 300, backgroundWorkers: 4) }
        let worker = RunningWorker(porter, configuration, queues: ["default"])
        let long = try #require(try await porter.enqueue(Long()).id)
        try await waitUntil(timeout: .seconds(15), "the long job to run") { await runs.count[long] == 1 }

        // The state a claim leaves when its answer is lost, written by hand: held by this
        // live worker, which never received it.
        let id = try #require(try await porter.enqueue(Quick(), options: EnqueueOptions(queue: "elsewhere")).id)
        try await porter.pool.query("""
            UPDATE porter.jobs SET queue = 'default', status = 'started', worker_id = \(worker.id), attempts = 1,
                   started_at = now()
            WHERE id = \(id)
            """)

        let job = try await waitForJob(porter, id, .finished, timeout: .seconds(30))
        #expect(await runs.count[id] == 1)
        #expect(job.orphaned == 1)
        #expect(job.attempts == 1)
        // Many heartbeats later, the job the worker runs is still its own, untouched.
        try await Task.sleep(for: .seconds(1))
        let kept = try #require(try await porter.pool.query(
            "SELECT status, orphaned, worker_id FROM porter.jobs WHERE id = \(long)").first).decode((String, Int, String).self)
        #expect(kept == ("started", 0, worker.id))
        #expect(await runs.count[long] == 1)

        try await worker.shutdown()
        await porter.close()
    }
}

/// The completer sends a batch's `started` events and ends in one statement, and sends it
/// again when the connection is lost before its answer. If the first one had committed, the
/// retry must not send the `started` events a second time, after the jobs' ends.
@Suite struct RetriedEndStatementTests {
    @Test func aRetriedEndOfACommittedBatchSendsNoSecondStartedEvent() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let id = try #require(try await porter.enqueue(method: "test.retried_end").id)
        let worker = "test-retrying-worker"
        let attempt = try await porter.pool.query(
            "SELECT claimed_attempt FROM porter.claim_queued('default', \(worker), 1)").single(Int.self)
        let listener = PQListener(database.configuration)
        defer { listener.stop() }
        try await listener.listen("porter_realtime")
        var events = listener.notifications(channel: "porter_realtime").makeAsyncIterator()

        // The completer's statement, as it sends it: the claim's started event, then the end.
        let end: PQQuery = """
            SELECT id FROM porter.end_attempts(\(worker),
                jsonb_build_array(jsonb_build_object('id', \(id)::bigint, 'method', 'test.retried_end', 'queue', 'default', 'attempt', \(attempt)::int)),
                jsonb_build_array(jsonb_build_object('id', \(id)::bigint, 'attempt', \(attempt)::int, 'status', 'finished', 'result', NULL,
                                                     'error', NULL, 'retry_in', 0, 'orphaned', false)),
                true) AS id
            """
        let ended = try await porter.pool.query(end).map { try $0.decode(Int64.self) }
        #expect(ended == [id])
        // Its answer was lost; the retry changes nothing.
        #expect(try await porter.pool.query(end).isEmpty)
        try await porter.pool.query("SELECT pg_notify('porter_realtime', 'marker')")

        var seen: [String] = []
        while let event = await events.next(), event.payload != "marker" {
            let object = try JSONSerialization.jsonObject(with: Data(event.payload.utf8)) as? [String: Any]
            if (object?["job"] as? NSNumber)?.int64Value == id { seen.append(object?["event"] as? String ?? "?") }
        }
        #expect(seen == ["started", "finished"])
        await porter.close()
    }
}
