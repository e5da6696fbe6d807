import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Synchronization
import Testing

struct Sum: Job {
    static let method = "math.sum"
    var numbers: [Int]
}

struct Nap: Job {
    static let method = "test.nap"
    var seconds: Double
}

actor Attempts {
    var count = 0
    func next() -> Int {
        count += 1
        return count
    }
}

@Suite struct WorkerTests {
    @Test func swiftHandlerRunsAndItsResultIsStored() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(Sum.self) { job, context in
            #expect(context.attempt == 1)
            return job.numbers.reduce(0, +)
        }
        let porter = database.makeClient(registry: registry)
        let worker = RunningWorker(porter, fastConfiguration())
        let id = try #require(try await porter.enqueue(Sum(numbers: [1, 2, 39])).id)
        let job = try await waitForJob(porter, id, .finished)
        #expect(job.result?.text == "42")
        #expect(job.attempts == 1)
        #expect(job.startedAt != nil && job.endedAt != nil)
        try await worker.shutdown()
        await porter.close()
    }

    /// A handler's logger names its job (id, method, queue), though the metadata is only made
    /// when the handler first asks for the logger.
    @Test func aHandlersLoggerNamesItsJobsIDMethodAndQueue() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(Sum.self) { _, context in
            let logger = context.logger
            return ["porter.job.id", "porter.job.method", "porter.queue"].map { logger[metadataKey: $0].map { "\($0)" } ?? "none" }
        }
        let porter = database.makeClient(registry: registry)
        let worker = RunningWorker(porter, fastConfiguration())
        let id = try #require(try await porter.enqueue(Sum(numbers: []), options: EnqueueOptions(queue: "short")).id)
        let job = try await waitForJob(porter, id, .finished)
        #expect(try job.result?.decode([String].self) == ["\(id)", "math.sum", "short"])
        try await worker.shutdown()
        await porter.close()
    }

    @Test func aQueueWithManySlotsClaimsInParallelAndRunsEachJobOnce() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient(maximumConnections: 20)
        try await createSQLJobs(porter)
        // 250 slots: two claimers share the queue.
        let worker = RunningWorker(porter, fastConfiguration { $0.queues["default"]?.backgroundWorkers = 250 })
        _ = try await porter.enqueueMany((0..<2000).map { _ in EnqueueRequest(method: "sql:app.record") })
        try await waitUntil(timeout: .seconds(60), "2,000 jobs to finish") {
            try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE status = 'finished'").single(Int.self) == 2000
        }
        let row = try #require(try await porter.pool.query("SELECT count(*), count(DISTINCT job) FROM app.effects").first)
        let (effects, distinct) = try row.decode((Int, Int).self)
        #expect(effects == 2000 && distinct == 2000)
        #expect(try await porter.pool.query("SELECT max(attempts) FROM porter.jobs").single(Int.self) == 1)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func aWorkerRefusesADatabaseWhoseSchemaIsBehindItsBuild() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.pool.query("DELETE FROM porter.schema_migrations WHERE version = (SELECT max(version) FROM porter.schema_migrations)")
        let worker = Worker(client: porter, configuration: fastConfiguration())
        let error = await #expect(throws: PorterError.self) { try await worker.run() }
        #expect(error?.code == .schemaMissing)
        #expect(error?.message.contains("run `porter migrate`") == true, "\(String(describing: error))")
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.workers").single(Int.self) == 0)
        await porter.close()
    }

    @Test func pollOnlyWorkerRunsJobsWithoutListening() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(Sum.self) { job, _ in job.numbers.reduce(0, +) }
        let porter = database.makeClient(registry: registry)
        let worker = RunningWorker(porter, fastConfiguration { $0.pollOnly = true })
        let id = try #require(try await porter.enqueue(Sum(numbers: [4])).id)
        #expect(try await waitForJob(porter, id, .finished).result?.text == "4")
        let listeners = try await porter.pool.query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'").single(Int.self)
        #expect(listeners == 0)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func unknownMethodFailsClearlyAndIsNotRetried() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let worker = RunningWorker(porter, fastConfiguration())
        let id = try #require(try await porter.enqueue(method: "no.such.job", options: EnqueueOptions(maxAttempts: 5)).id)
        let job = try await waitForJob(porter, id, .failed)
        #expect(job.error?.contains("unknown method no.such.job") == true)
        #expect(job.attempts == 1)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func sqlJobCommitsItsEffectsAndResultWithFinished() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let worker = RunningWorker(porter, fastConfiguration())
        let id = try #require(try await porter.enqueue(method: "sql:app.record", args: PQJSON(text: #"{"note": "hi"}"#)).id)
        let job = try await waitForJob(porter, id, .finished)
        #expect(try await effects(porter, job: id) == 1)
        struct Recorded: Decodable { var job: Int64; var note: String }
        let result = try #require(try job.result?.decode(Recorded.self))
        #expect(result.job == id && result.note == "hi")
        // The function read its own job id through porter.current_job_id().
        #expect(try await porter.pool.query("SELECT count(*) FROM app.effects WHERE job = \(id) AND note = 'hi'").single(Int.self) == 1)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func sqlJobInASchemaNotAllowedFailsWithTheFix() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let worker = RunningWorker(porter, fastConfiguration())
        let id = try #require(try await porter.enqueue(method: "sql:private.touch", options: EnqueueOptions(maxAttempts: 3)).id)
        let job = try await waitForJob(porter, id, .failed)
        #expect(job.error?.contains("schema private is not allowed") == true)
        #expect(job.error?.contains("sql_schemas") == true)
        #expect(job.attempts == 1)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func sqlJobThatRaisesLeavesNoEffectsAndIsRetriedThenFailed() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let worker = RunningWorker(porter, fastConfiguration())
        let id = try #require(try await porter.enqueue(
            method: "sql:app.fail", args: PQJSON(text: #"{"outlet": "KOCHI-7"}"#), options: EnqueueOptions(maxAttempts: 2)).id)
        let job = try await waitForJob(porter, id, .failed)
        #expect(job.attempts == 2)
        #expect(job.error?.contains("stock level unavailable for KOCHI-7") == true)
        #expect(try await effects(porter, job: id) == 0)
        let history = try await porter.pool.query("SELECT array_agg((e->>'attempt')::int ORDER BY (e->>'attempt')::int) FROM porter.jobs, jsonb_array_elements(errors) e WHERE id = \(id)").single([Int].self)
        #expect(history == [1, 2])
        try await worker.shutdown()
        await porter.close()
    }

    @Test func failedSwiftJobIsRetriedWithBackoffAndKeepsEveryAttemptsError() async throws {
        let database = try await TestDatabase.create()
        let attempts = Attempts()
        let reader = database.makeClient()
        // The job's row as the second attempt starts: what the first failure left.
        let seenBySecond = Shared<(attempts: Int, error: String?, backoff: Double)?>(nil)
        var registry = JobRegistry()
        struct Flaky: Error, CustomStringConvertible {
            var attempt: Int
            var description: String { "flaky on attempt \(attempt)" }
        }
        registry.register(Nap.self) { _, context in
            let attempt = await attempts.next()
            #expect(context.attempt == attempt)
            if attempt == 2 {
                // run_at is when the retry was due; the first error's time is when it was set.
                let row = try await reader.pool.query("""
                    SELECT attempts, error, extract(epoch FROM run_at - (errors->0->>'at')::timestamptz)::float8
                    FROM porter.jobs WHERE id = \(context.id)
                    """).first
                seenBySecond.value = try row?.decode((Int, String?, Double).self)
            }
            if attempt < 3 { throw Flaky(attempt: attempt) }
        }
        let porter = database.makeClient(registry: registry)
        // Backoffs of 1 s then 2 s (no jitter).
        let configuration = fastConfiguration { $0.retryPolicy = RetryPolicy(base: .seconds(1), maximum: .seconds(5), jitter: 0) }
        let worker = RunningWorker(porter, configuration)
        let id = try #require(try await porter.enqueue(Nap(seconds: 0), options: EnqueueOptions(maxAttempts: 3)).id)

        let job = try await waitForJob(porter, id, .finished)
        #expect(job.attempts == 3)
        // The first failure left the job due 1 s after it failed, with that attempt's error. Read
        // from the second attempt, not by polling for the scheduled state, which a loaded
        // machine can step over.
        let second = try #require(seenBySecond.value)
        #expect(second.attempts == 2)
        #expect(second.error?.contains("flaky on attempt 1") == true)
        #expect(second.backoff > 0.5 && second.backoff <= 1.0, "\(second.backoff)")
        let errors = try job.errors.decode([[String: PostgresJSONValue]].self)
        #expect(errors.count == 2)
        #expect(errors.map { $0["error"]?.string ?? "" } == ["Flaky: flaky on attempt 1", "Flaky: flaky on attempt 2"])
        // Each wait is at least its backoff, and the second doubled the first: 1 s, then 2 s.
        let waits = try await porter.pool.query("""
            SELECT extract(epoch FROM (errors->1->>'at')::timestamptz - (errors->0->>'at')::timestamptz)::float8,
                   extract(epoch FROM started_at - (errors->1->>'at')::timestamptz)::float8
            FROM porter.jobs WHERE id = \(id)
            """).first
        let (first, secondWait) = try #require(try waits?.decode((Double, Double).self))
        #expect(first >= 0.99)
        #expect(secondWait >= 1.99)
        try await worker.shutdown()
        await porter.close()
        await reader.close()
    }

    @Test func swiftHandlerIsCancelledAtItsTimeout() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(Nap.self) { job, _ in try await Task.sleep(for: .seconds(job.seconds)) }
        let porter = database.makeClient(registry: registry)
        let worker = RunningWorker(porter, fastConfiguration())
        let id = try #require(try await porter.enqueue(Nap(seconds: 30), options: EnqueueOptions(timeout: 1)).id)
        let job = try await waitForJob(porter, id, .failed)
        #expect(job.error == "timed out after 1 s")
        try await worker.shutdown()
        await porter.close()
    }

    @Test func handlerIgnoringCancellationStopsHoldingItsSlotAfterTheGrace() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        // Waits on a continuation that nothing cancels: a handler that ignores cancellation.
        registry.register(Nap.self) { job, _ in
            await withCheckedContinuation { continuation in
                DispatchQueue.global().asyncAfter(deadline: .now() + job.seconds) { continuation.resume() }
            }
        }
        registry.register(Sum.self) { job, _ in job.numbers.reduce(0, +) }
        let porter = database.makeClient(registry: registry)
        // One slot: the second job can only run once the first one's slot is released.
        let worker = RunningWorker(porter, fastConfiguration { $0.queues["default"]?.backgroundWorkers = 1 })
        let stuck = try #require(try await porter.enqueue(Nap(seconds: 20), options: EnqueueOptions(timeout: 1)).id)
        let next = try #require(try await porter.enqueue(Sum(numbers: [1])).id)
        #expect(try await waitForJob(porter, stuck, .failed).error == "timed out after 1 s")
        try await waitForJob(porter, next, .finished, timeout: .seconds(10))
        try await worker.shutdown()
        await porter.close()
    }

    /// The slot of an abandoned handler is freed once: when the handler returns after all, it
    /// does not free it a second time, which would let a one-slot worker run two jobs at once.
    @Test func anAbandonedHandlerThatReturnsLaterDoesNotFreeItsSlotAgain() async throws {
        struct Overlap: Job {
            static let method = "test.overlap"
            var seconds: Double
        }
        let running = Mutex((now: 0, most: 0))
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        // Ignores cancellation, and returns 0.5 s after its slot was released.
        registry.register(Nap.self) { job, _ in
            await withCheckedContinuation { continuation in
                DispatchQueue.global().asyncAfter(deadline: .now() + job.seconds) { continuation.resume() }
            }
        }
        registry.register(Overlap.self) { job, _ in
            running.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
            defer { running.withLock { $0.now -= 1 } }
            try? await Task.sleep(for: .seconds(job.seconds))
        }
        let porter = database.makeClient(registry: registry)
        let worker = RunningWorker(porter, fastConfiguration {
            $0.queues["default"]?.backgroundWorkers = 1
            $0.cancelGrace = .milliseconds(200)
        })
        let stuck = try #require(try await porter.enqueue(Nap(seconds: 1.7), options: EnqueueOptions(timeout: 1)).id)
        var overlapping: [Int64] = []
        for _ in 0..<3 { overlapping.append(try #require(try await porter.enqueue(Overlap(seconds: 1)).id)) }
        #expect(try await waitForJob(porter, stuck, .failed).error == "timed out after 1 s")
        for id in overlapping { try await waitForJob(porter, id, .finished, timeout: .seconds(20)) }
        #expect(running.withLock { $0.most } == 1)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func sqlJobIsHardStoppedByStatementTimeoutAndItsEffectsUndone() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let worker = RunningWorker(porter, fastConfiguration())
        let id = try #require(try await porter.enqueue(
            method: "sql:app.slow", args: PQJSON(text: #"{"sleep": 30}"#), options: EnqueueOptions(timeout: 1)).id)
        let job = try await waitForJob(porter, id, .failed)
        #expect(job.error == "timed out after 1 s")
        #expect(try await effects(porter, job: id) == 0)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func atFrontJobsRunFirstThenByPriorityThenInOrder() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        try await porter.pool.query("ALTER TABLE app.effects ADD COLUMN seq bigserial")
        let order: [(String, EnqueueOptions)] = [
            ("late-low", EnqueueOptions(priority: 5)),
            ("plain-1", EnqueueOptions()),
            ("urgent", EnqueueOptions(priority: -10)),
            ("front", EnqueueOptions(atFront: true, priority: 9)),
            ("plain-2", EnqueueOptions()),
            ("front-urgent", EnqueueOptions(atFront: true, priority: -1)),
        ]
        for (note, options) in order {
            try await porter.enqueue(method: "sql:app.record", args: PQJSON(text: "{\"note\": \"\(note)\"}"), options: options)
        }
        let worker = RunningWorker(porter, fastConfiguration())  // one slot: strictly one at a time
        try await waitUntil(timeout: .seconds(30), "all six jobs to finish") {
            try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE status = 'finished'").single(Int.self) == 6
        }
        let ran = try await porter.pool.query("SELECT array_agg(note ORDER BY seq) FROM app.effects").single([String].self)
        #expect(ran == ["front-urgent", "front", "urgent", "plain-1", "plain-2", "late-low"])
        try await worker.shutdown()
        await porter.close()
    }

    @Test func gracefulShutdownLetsTheRunningJobFinish() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(Nap.self) { job, _ in try await Task.sleep(for: .seconds(job.seconds)) }
        let porter = database.makeClient(registry: registry)
        let worker = RunningWorker(porter, fastConfiguration())
        let id = try #require(try await porter.enqueue(Nap(seconds: 1)).id)
        try await waitForJob(porter, id, .started)
        try await worker.shutdown()
        #expect(try await porter.job(id: id)?.status == .finished)
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.workers").single(Int.self) == 0)
        await porter.close()
    }

    @Test func shutdownAfterTheGracePeriodRequeuesTheRunningJob() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(Nap.self) { job, _ in try await Task.sleep(for: .seconds(job.seconds)) }
        let porter = database.makeClient(registry: registry)
        let worker = RunningWorker(porter, fastConfiguration { $0.shutdownGrace = .milliseconds(300) })
        let id = try #require(try await porter.enqueue(Nap(seconds: 60)).id)
        try await waitForJob(porter, id, .started)
        try await worker.shutdown()
        let job = try #require(try await porter.job(id: id))
        #expect(job.status == .queued)
        #expect(job.attempts == 0)
        await porter.close()
    }

    @Test func cancelStopsAQueuedJobAtOnceAndARunningOneCooperatively() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(Nap.self) { job, _ in try await Task.sleep(for: .seconds(job.seconds)) }
        let porter = database.makeClient(registry: registry)
        let waiting = try #require(try await porter.enqueue(Nap(seconds: 0), options: EnqueueOptions(queue: "long", delay: .seconds(60))).id)
        #expect(try await porter.cancel(id: waiting) == .canceled)
        #expect(try await porter.job(id: waiting)?.status == .canceled)

        let worker = RunningWorker(porter, fastConfiguration())
        let running = try #require(try await porter.enqueue(Nap(seconds: 60)).id)
        try await waitForJob(porter, running, .started)
        #expect(try await porter.cancel(id: running) == .requested)
        try await waitForJob(porter, running, .canceled)

        // A canceled job can be retried (with no worker running, so it stays queued).
        try await worker.shutdown()
        try await porter.retry(id: running)
        #expect(try await porter.job(id: running)?.status == .queued)
        let error = await #expect(throws: PorterError.self) { try await porter.retry(id: 987_654) }
        #expect(error?.code == .jobNotFound(987_654))
        await porter.close()
    }

    @Test func workerCarriesOnAfterItsConnectionsAreTerminated() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(Sum.self) { job, _ in job.numbers.reduce(0, +) }
        let porter = database.makeClient(registry: registry)
        let worker = RunningWorker(porter, fastConfiguration())
        let first = try #require(try await porter.enqueue(Sum(numbers: [1])).id)
        try await waitForJob(porter, first, .finished)

        let admin = try await database.connect()
        let killed = try await admin.query(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).single(Int.self)
        #expect(killed >= 2)  // the worker's pool connections and its listener

        let enqueuer = database.makeClient()
        let ids = try await enqueuer.enqueueMany((0..<20).map { Sum(numbers: [$0]) }).compactMap(\.id)
        for id in ids { try await waitForJob(enqueuer, id, .finished) }
        try await worker.shutdown()
        await enqueuer.close()
        await porter.close()
    }

    @Test func nowModeEnforcesTheTimeoutAndReturnsTheResult() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(Sum.self) { job, _ in job.numbers.reduce(0, +) }
        registry.register(Nap.self) { job, _ in try await Task.sleep(for: .seconds(job.seconds)) }
        let porter = database.makeClient(registry: registry)
        #expect(try await porter.enqueue(Sum(numbers: [2, 3]), options: EnqueueOptions(now: true)) == .ranInline(result: PQJSON(text: "5")))
        let error = await #expect(throws: PorterError.self) {
            try await porter.enqueue(Nap(seconds: 30), options: EnqueueOptions(timeout: 1, now: true))
        }
        #expect(error?.code == .jobFailed)
        #expect(error?.message.contains("timed out after 1 s") == true)
        await porter.close()
    }
}

/// A JSON value whose text is all a test needs.
enum PostgresJSONValue: Decodable, Equatable {
    case string(String)
    case other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) { self = .string(text) } else { self = .other }
    }

    var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
