import ArgumentParser
import Foundation
import Logging
import Porter
import PorterCLI
import PorterPostgres
import ServiceLifecycle
import Synchronization

/// What the worker benchmarks share: a database, a client whose registry has the no-op job,
/// and a worker serving the `bench` queue with C slots, run in this process.
struct WorkerBench {
    static let queue = "bench"
    /// `--concurrency`: the bench queue's background_workers, so the config file's range.
    static let concurrencyRange = FlagRange("--concurrency", QueueConfiguration.backgroundWorkersRange)
    let session: DatabaseSession
    let porter: PorterClient
    let logger: Logger
    /// How many times the no-op job has run in this process.
    let runs: RunCount
    /// The worker's `job_events` setting.
    var jobEvents = true

    static func start(_ connection: ConnectionOptions, slots: Int, jobEvents: Bool = true) async throws -> WorkerBench {
        let session = try DatabaseSession.start(connection)
        var logger = Logger(label: "porter.bench")
        logger.logLevel = .warning
        var registry = JobRegistry()
        let runs = RunCount()
        registry.register(method: "bench.noop") { _, _ in
            runs.add()
            return nil
        }
        let porter = PorterClient(
            pool: PQPool(session.configuration, maximumConnections: slots + 6, logger: logger),
            registry: registry, logger: logger)
        try await porter.migrate()
        try await porter.pool.query("DELETE FROM porter.jobs WHERE queue = \(queue)")
        // A run stopped half way may have left the flow-control workload's limits behind.
        try await porter.clearLimit(queue: queue)
        try await porter.clearLimit(queue: queue, eachKey: true)
        let settings = try await porter.pool.query("SELECT current_setting('fsync'), current_setting('synchronous_commit')").first
        print("fsync=\(settings?[0] ?? "?") synchronous_commit=\(settings?[1] ?? "?")")
        print("job_events=\(jobEvents)")
        return WorkerBench(session: session, porter: porter, logger: logger, runs: runs, jobEvents: jobEvents)
    }

    func worker(slots: Int) -> Worker {
        var configuration = WorkerConfiguration()
        configuration.queues[Self.queue] = QueueConfiguration(timeout: 60, backgroundWorkers: slots)
        configuration.jobEvents = jobEvents
        return Worker(client: porter, configuration: configuration, queues: [Self.queue], logger: logger)
    }

    /// Enqueues `count` no-op jobs with enqueueMany, 1,000 per statement; with `keys`, job i
    /// has limit_key `key:<i mod keys>`, so the keys take turns through the queue.
    func fill(_ count: Int, keys: Int = 0) async throws {
        var done = 0
        while done < count {
            let batch = min(count - done, 1000)
            _ = try await porter.enqueueMany(
                (done..<(done + batch)).map { index in
                    EnqueueRequest(
                        method: "bench.noop",
                        options: EnqueueOptions(queue: Self.queue, limitKey: keys > 0 ? "key:\(index % keys)" : nil))
                })
            done += batch
        }
    }

    /// Runs a worker with `slots` until the bench queue has nothing waiting and nothing
    /// running, and returns how long that took by the database's clock: from just before the
    /// worker started to the last job's `ended_at`. Until the no-op job has run `jobs` times
    /// (counted in this process) nothing is asked of the database; then it is checked every
    /// 200 ms that every outcome is written. A check walks the claim and started indexes past
    /// the dead entry of every job claimed since the last vacuum, several milliseconds of a
    /// core: checking every 20 ms from the start took a sixth of the machine's CPU from the
    /// worker being measured, and the 200 ms between checks do not count, as the end is read
    /// from the rows.
    @discardableResult
    func workOff(slots: Int, jobs: Int) async throws -> Duration {
        let target = runs.value + jobs
        let startedAt = try await porter.pool.query(WorkerBenchSQL.clock).single(Double.self)
        try await withWorker(slots: slots) {
            try await poll("the bench jobs to run", every: .milliseconds(2)) { runs.value >= target }
            try await poll("the bench queue to drain", every: .milliseconds(200)) {
                try await porter.pool.query(WorkerBenchSQL.drained).single(Bool.self)
            }
        }
        let endedAt = try await porter.pool.query(WorkerBenchSQL.lastEnd).single(Double.self)
        return .seconds(max(endedAt - startedAt, 1e-6))
    }

    /// Deletes the bench queue's jobs and vacuums, so that the next run starts from a clean
    /// table, not behind the last one's dead rows, whose entries a claim would walk until
    /// autovacuum came.
    func clear() async throws {
        try await porter.pool.query("DELETE FROM porter.jobs WHERE queue = \(Self.queue)")
        try await porter.pool.query("VACUUM porter.jobs")
    }

    func count(_ status: String) async throws -> Int {
        try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE queue = \(Self.queue) AND status = \(status)").single(Int.self)
    }

    /// Runs `body` while a worker runs in a child task, then stops the worker.
    func withWorker<T: Sendable>(slots: Int, _ body: () async throws -> T) async throws -> T {
        let worker = worker(slots: slots)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            let value = try await body()
            group.cancelAll()
            try? await group.waitForAll()
            return value
        }
    }

    func stop() async {
        await porter.close()
        session.stop()
    }
}

/// `porter bench burndown`: N queued no-op jobs, worked off with C slots.
struct BurndownBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "burndown", abstract: "Enqueue N no-op jobs, then work them off with C slots; prints jobs_per_s.")

    @Option(help: "Jobs to enqueue and work, \(BurndownBenchCommand.jobsRange.text).")
    var jobs: Int = 20_000

    @Option(help: "Job slots in the worker (background_workers), \(WorkerBench.concurrencyRange.text).")
    var concurrency: Int = 10

    @Flag(
        name: .customLong("no-baseline"),
        help: "Skip the bare SQL loops (on porter.jobs, and raw on a narrow table without triggers) measured for comparison.")
    var noBaseline = false

    @Option(
        help: """
            Finished jobs to add to the table first, to check that history does not slow the claim path \
            (e.g. 1000000), \(BurndownBenchCommand.historyRange.text).
            """)
    var history: Int = 0

    @Flag(name: .customLong("no-job-events"), help: "Run the worker with job_events off (no started/finished events).")
    var noJobEvents = false

    @Flag(help: "Record Porter's metrics into a Prometheus registry, as `porter worker --metrics-port` does, to measure what they cost.")
    var metrics = false

    @Option(
        name: .customLong("limited-keys"),
        help: """
            After the unlimited run, the flow-control workload: the same jobs spread over this many limit keys,             each limited to 1 running (e.g. 1000), \(BurndownBenchCommand.keysRange.text); 0 skips it.
            """)
    var limitedKeys: Int = 0

    @Flag(help: "With --limited-keys: the queue takes turns among its keys (fair => true).")
    var fair = false

    @Flag(help: """
        Trace with swift-otel, as `porter worker` does with OTEL_EXPORTER_OTLP_ENDPOINT set: every span sampled, \
        batched and sent over OTLP/HTTP to a local endpoint that discards them, to measure what tracing costs per job.
        """)
    var tracing = false

    @OptionGroup var connection: ConnectionOptions

    static let jobsRange = FlagRange("--jobs", 1...10_000_000)
    static let historyRange = FlagRange("--history", 0...100_000_000)
    static let keysRange = FlagRange("--limited-keys", 0...10_000_000)

    func validate() throws {
        try Self.jobsRange.check(jobs)
        try WorkerBench.concurrencyRange.check(concurrency)
        try Self.historyRange.check(history)
        try Self.keysRange.check(limitedKeys)
    }

    func run() async throws {
        if metrics {
            guard let web = PorterCLI.web else {
                throw CommandFailure(message: "--metrics needs the porter executable, which carries the Prometheus registry")
            }
            web.bootstrapMetrics()
        }
        print("metrics=\(metrics ? "on" : "off")")
        print("tracing=\(tracing ? "on" : "off")")
        guard tracing else { return try await measure() }
        guard let traceExport = PorterCLI.traceExport else {
            throw CommandFailure(message: "--tracing needs the porter executable, which carries swift-otel")
        }
        let sink = try DiscardingOTLPSink()
        defer { sink.close() }
        var logger = Logger(label: "porter.bench.tracing")
        logger.logLevel = .warning
        let environment = [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(sink.port)", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_TRACES_SAMPLER": "always_on", "OTEL_SERVICE_NAME": "porter-bench",
        ]
        guard let exporter = try traceExport.bootstrap(environment: environment, logger: logger) else {
            throw CommandFailure(message: "--tracing: the exporter was not started")
        }
        // In a ServiceGroup of its own, so that its graceful shutdown sends the last spans.
        let services = ServiceGroup(configuration: .init(services: [.init(service: exporter)], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            do {
                try await measure()
            } catch {
                group.cancelAll()
                throw error
            }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
        print("trace_exports=\(sink.requests) trace_export_bytes=\(sink.bytes)")
    }

    /// The runs and their figures, with whatever tracer `run` bootstrapped.
    private func measure() async throws {
        let bench = try await WorkerBench.start(connection, slots: concurrency, jobEvents: !noJobEvents)
        let clock = ContinuousClock()
        if history > 0 {
            try await bench.porter.pool.query("""
                INSERT INTO porter.jobs (method, queue, status, attempts, started_at, ended_at, enqueued_at, run_at)
                SELECT 'bench.history', 'bench-history', 'finished', 1, now(), now(), now(), now() FROM generate_series(1, \(history))
                """)
            try await bench.porter.pool.query("VACUUM ANALYZE porter.jobs")
            print("added \(history) finished jobs to the table")
        }
        try await warmUp(bench)
        var baseline: Double?
        var raw: Double?
        var rawCPU: Int?
        if !noBaseline {
            try await bench.fill(jobs)
            let elapsed = try await clock.measure { try await bareLoop(bench) }
            baseline = Double(jobs) / elapsed.seconds
            print("bare SQL loop on porter.jobs, its triggers included (claim 100 + complete 100 per round, 4 connections): \(Int(baseline!)) jobs/s")
            try await bench.clear()
            let figures = try await RawQueueLoop.measure(bench.session.configuration, jobs: jobs)
            raw = figures.jobsPerSecond
            rawCPU = Int(figures.machineCPUPerJob.seconds * 1e6)
            print("raw SQL loop on a narrow table without triggers (claim 100 + complete 100 per round, 4 connections): \(Int(raw!)) jobs/s, \(rawCPU!) µs of machine CPU per job")
        }
        try await bench.fill(jobs)
        let postmaster = try await bench.porter.pool.withConnection { connection in await CPUTime.postmaster(of: connection) }
        let serverBefore = postmaster.map(CPUTime.server(postmaster:))
        let cpuBefore = CPUTime.now()
        let elapsed = try await bench.workOff(slots: concurrency, jobs: jobs)
        let cpu = CPUTime.now() - cpuBefore
        let serverCPU = postmaster.flatMap { pid in serverBefore.map { CPUTime.server(postmaster: pid) - $0 } }
        let finished = try await bench.count("finished")
        guard finished == jobs else {
            throw CommandFailure(message: "the worker finished \(finished) of \(jobs) jobs; the rest failed (see porter jobs --queue bench)")
        }
        let rate = Double(jobs) / elapsed.seconds
        print("porter worker: \(jobs) jobs with \(concurrency) slots in \(format(elapsed.seconds)) s: \(Int(rate)) jobs/s"
            + (raw.map { ", \(format(rate / $0))× the raw loop" } ?? ""))
        let limitedRate = try await limitedRun(bench, unlimited: rate)
        await bench.stop()
        let processCPU = Int(cpu.process * 1e6 / Double(jobs))
        let machineCPU = Int(cpu.machine * 1e6 / Double(jobs))
        let peakRSS = Int(CPUTime.peakResidentMiB().rounded())
        let databaseCPU = serverCPU.map { Int($0 * 1e6 / Double(jobs)) }
        print("CPU per job: \(processCPU) µs in this process, "
            + (databaseCPU.map { "\($0) µs in PostgreSQL's processes, " } ?? "")
            + "\(machineCPU) µs on the whole machine (PostgreSQL included)")
        print("peak resident memory of this process (worker, enqueues and all): \(peakRSS) MiB")
        print("jobs=\(jobs) concurrency=\(concurrency) history=\(history) metrics=\(metrics ? "on" : "off") tracing=\(tracing ? "on" : "off") jobs_per_s=\(Int(rate))"
            + (baseline.map { " baseline_jobs_per_s=\(Int($0))" } ?? "")
            + (raw.map { " raw_jobs_per_s=\(Int($0)) ratio_to_raw=\(format(rate / $0))" } ?? "")
            + (rawCPU.map { " raw_machine_cpu_us_per_job=\($0)" } ?? "")
            + " process_cpu_us_per_job=\(processCPU)" + (databaseCPU.map { " database_cpu_us_per_job=\($0)" } ?? "")
            + " machine_cpu_us_per_job=\(machineCPU) peak_rss_mib=\(peakRSS)"
            + (limitedRate.map { " limited_keys=\(limitedKeys) fair=\(fair) limited_jobs_per_s=\(Int($0))" } ?? ""))
    }

    /// The flow-control workload, in the same run as the unlimited one: the same number of
    /// jobs over `limitedKeys` keys, each key limited to 1 running (each_key), so every claim
    /// goes through porter.claim_limited and passes over the keys that are running. Checks
    /// from the rows that no key ever ran two at once. Returns jobs/s, or nil when skipped.
    private func limitedRun(_ bench: WorkerBench, unlimited: Double) async throws -> Double? {
        guard limitedKeys > 0 else { return nil }
        try await bench.clear()
        let queue = WorkerBench.queue
        try await bench.porter.setLimit(QueueLimit(queue: queue, eachKey: true, maxRunning: 1))
        if fair { try await bench.porter.setLimit(QueueLimit(queue: queue, fair: true)) }
        try await bench.fill(jobs, keys: limitedKeys)
        let elapsed = try await bench.workOff(slots: concurrency, jobs: jobs)
        let overlapping = try await bench.porter.pool.query("""
            SELECT count(*) FROM porter.jobs a JOIN porter.jobs b
              ON a.limit_key = b.limit_key AND a.id < b.id AND a.started_at < b.ended_at AND b.started_at < a.ended_at
            WHERE a.queue = \(queue) AND b.queue = \(queue)
            """).single(Int.self)
        try await bench.porter.clearLimit(queue: queue)
        try await bench.porter.clearLimit(queue: queue, eachKey: true)
        guard overlapping == 0 else {
            throw CommandFailure(message: "\(overlapping) pairs of jobs of one key ran at once under a limit of 1")
        }
        let rate = Double(jobs) / elapsed.seconds
        print("porter worker, flow control: \(jobs) jobs over \(limitedKeys) keys each limited to 1 running\(fair ? ", fair" : ""), "
            + "\(concurrency) slots, in \(format(elapsed.seconds)) s: \(Int(rate)) jobs/s, \(format(rate / unlimited))× the unlimited run")
        return rate
    }

    /// Works off N jobs untimed, then checkpoints. A fresh cluster has no spare WAL segment
    /// files: until its first checkpoint, every 16 MB of WAL is a new file, zero-filled and
    /// fsynced on the commit path, which a long-running server avoids by recycling old ones.
    /// After the checkpoint the timed runs reuse segments, as in production.
    private func warmUp(_ bench: WorkerBench) async throws {
        try await bench.fill(jobs)
        try await bench.workOff(slots: concurrency, jobs: jobs)
        try await bench.clear()
        do {
            try await bench.porter.pool.query("CHECKPOINT")
        } catch {
            // CHECKPOINT needs superuser or pg_checkpoint; without it a fresh cluster's timed
            // runs pay for new WAL files, a long-running one's do not.
            print("could not checkpoint after the warm-up (\(error)); figures may include WAL file creation")
        }
    }

    /// The raw limit: 4 connections, each claiming 100 jobs and completing them, until none is left.
    private func bareLoop(_ bench: WorkerBench) async throws {
        try await claimAndComplete(bench.session.configuration, claim: WorkerBenchSQL.bareClaim) { ids in
            "UPDATE porter.jobs SET status = 'finished', ended_at = now() WHERE id = ANY(\(ids)::bigint[])"
        }
    }
}

enum WorkerBenchSQL {
    /// The database's clock now, in seconds since 1970, to time a run against `ended_at`.
    static let clock: PQQuery = "SELECT extract(epoch FROM clock_timestamp())::float8"

    /// When the last finished bench job ended; served by jobs_ended_at_idx, backwards.
    static let lastEnd: PQQuery = """
        SELECT extract(epoch FROM ended_at)::float8 FROM porter.jobs
        WHERE status = 'finished' AND queue = 'bench' ORDER BY status, ended_at DESC LIMIT 1
        """

    /// The reference claim: a CTE with FOR UPDATE SKIP LOCKED and UPDATE ... RETURNING.
    static let bareClaim: PQQuery = """
        WITH next AS (
            SELECT id FROM porter.jobs WHERE queue = 'bench' AND status IN ('queued', 'scheduled') AND run_at <= now()
            ORDER BY at_front DESC, priority, run_at, id LIMIT 100 FOR UPDATE SKIP LOCKED)
        UPDATE porter.jobs j SET status = 'started', started_at = now(), attempts = j.attempts + 1
        FROM next WHERE j.id = next.id RETURNING j.id
        """

    /// Nothing waiting and nothing running in the bench queue: two index probes
    /// (jobs_claim_idx, jobs_started_worker_idx; ORDER BY ... LIMIT 1 keeps the planner on them
    /// whatever the statistics say). A count(*) would scan the whole table, history included,
    /// and take CPU from the worker being measured.
    static let drained: PQQuery = """
        SELECT (SELECT count(*) FROM (SELECT 1 FROM porter.jobs WHERE queue = 'bench' AND status IN ('queued', 'scheduled')
                                      ORDER BY at_front DESC, priority, run_at, id LIMIT 1) AS waiting) = 0
           AND (SELECT count(*) FROM (SELECT 1 FROM porter.jobs WHERE status = 'started' AND queue = 'bench'
                                      ORDER BY worker_id LIMIT 1) AS running) = 0
        """
}

/// `porter bench continuous`: enqueue and work at the same time for D seconds.
struct ContinuousBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "continuous", abstract: "Enqueue (batches of 100) and work at once for D seconds; prints jobs_per_s.")

    @Option(help: "How long to run, in seconds, \(ContinuousBenchCommand.secondsRange.text).")
    var seconds: Int = 10

    @Option(help: "Job slots in the worker, \(WorkerBench.concurrencyRange.text).")
    var concurrency: Int = 100

    @Flag(name: .customLong("no-job-events"), help: "Run the worker with job_events off (no started/finished events).")
    var noJobEvents = false

    @OptionGroup var connection: ConnectionOptions

    /// At least 1: the rates are divided by it.
    static let secondsRange = FlagRange("--seconds", 1...86_400, of: "a whole number of seconds")

    func validate() throws {
        try Self.secondsRange.check(seconds)
        try WorkerBench.concurrencyRange.check(concurrency)
    }

    func run() async throws {
        let bench = try await WorkerBench.start(connection, slots: concurrency, jobEvents: !noJobEvents)
        let clock = ContinuousClock()
        let (enqueued, finished) = try await bench.withWorker(slots: concurrency) {
            let deadline = clock.now + .seconds(seconds)
            var enqueued = 0
            let before = try await bench.count("finished")
            while clock.now < deadline {
                _ = try await bench.porter.enqueueMany(
                    (0..<100).map { _ in EnqueueRequest(method: "bench.noop", options: EnqueueOptions(queue: WorkerBench.queue)) })
                enqueued += 100
            }
            return (enqueued, try await bench.count("finished") - before)
        }
        let backlog = enqueued - finished
        await bench.stop()
        print("seconds=\(seconds) concurrency=\(concurrency) enqueued_per_s=\(enqueued / seconds) jobs_per_s=\(finished / seconds) backlog=\(backlog)")
    }
}

/// `porter bench latency`: an idle worker, jobs enqueued one at a time; enqueue-to-start times.
struct LatencyBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency", abstract: "Enqueue jobs one at a time to an idle worker; prints enqueue-to-start p50/p95/p99 in ms.")

    @Option(help: "Jobs to time, \(LatencyBenchCommand.jobsRange.text).")
    var jobs: Int = 500

    @OptionGroup var connection: ConnectionOptions

    static let jobsRange = FlagRange("--jobs", 1...1_000_000)

    func validate() throws {
        try Self.jobsRange.check(jobs)
    }

    func run() async throws {
        let bench = try await WorkerBench.start(connection, slots: 1)
        let samples = try await bench.withWorker(slots: 1) { () async throws -> [Double] in
            try await Task.sleep(for: .milliseconds(500))  // let the worker LISTEN
            var samples: [Double] = []
            for _ in 0..<(jobs + 20) {
                let id = try await bench.porter.enqueue(method: "bench.noop", options: EnqueueOptions(queue: WorkerBench.queue)).id!
                samples.append(try await poll("job \(id) to finish", every: .microseconds(500)) {
                    try await bench.porter.pool.query(
                        "SELECT extract(epoch FROM started_at - enqueued_at)::float8 * 1000 FROM porter.jobs WHERE id = \(id) AND status = 'finished'"
                    ).singleOptional(Double.self)
                })
            }
            return Array(samples.dropFirst(20))  // the first ones warm up plans and caches
        }
        await bench.stop()
        print("jobs=\(jobs) p50_ms=\(format(percentile(samples, 50))) p95_ms=\(format(percentile(samples, 95))) p99_ms=\(format(percentile(samples, 99)))")
    }
}

/// A count shared by the no-op job's runs and the bench loop that waits on them.
final class RunCount: Sendable {
    private let count = Atomic<Int>(0)

    var value: Int { count.load(ordering: .acquiring) }
    func add() { count.add(1, ordering: .releasing) }
}
