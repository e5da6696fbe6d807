import ArgumentParser
import Foundation
import Logging
import Porter
import PorterCLI
import PorterPostgres

/// `porter bench rescue`: a backlog worked by several `porter worker` processes at default
/// settings, one of them SIGKILLed mid-run, and how long each job it was running took to run
/// again elsewhere.
struct RescueBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rescue",
        abstract: "Work a backlog with worker processes, SIGKILL one mid-run; prints how long its jobs took to run again (p50, max).")

    @Option(help: "Jobs in the backlog, \(RescueBenchCommand.jobsRange.text).")
    var jobs: Int = 20_000

    @Option(help: "Worker processes, \(RescueBenchCommand.workersRange.text); the first is killed.")
    var workers: Int = 3

    @Option(help: "Job slots per worker process (background_workers), \(RescueBenchCommand.concurrencyRange.text).")
    var concurrency: Int = 20

    @Option(name: .customLong("job-ms"), help: "How long each job runs, in milliseconds, \(RescueBenchCommand.jobMillisecondsRange.text).")
    var jobMilliseconds: Int = 50

    @OptionGroup var connection: ConnectionOptions

    static let jobsRange = FlagRange("--jobs", 1...10_000_000)
    static let workersRange = FlagRange("--workers", 2...16)
    // Each slot of an sql: job holds a connection; the throwaway server allows 200.
    static let concurrencyRange = FlagRange("--concurrency", 1...40)
    static let jobMillisecondsRange = FlagRange("--job-ms", 1...60_000)

    func validate() throws {
        try Self.jobsRange.check(jobs)
        try Self.workersRange.check(workers)
        try Self.concurrencyRange.check(concurrency)
        try Self.jobMillisecondsRange.check(jobMilliseconds)
    }

    static let queue = "bench"

    func run() async throws {
        let session = try DatabaseSession.start(connection)
        defer { session.stop() }
        var logger = Logger(label: "porter.bench")
        logger.logLevel = .warning
        let porter = PorterClient(pool: PQPool(session.configuration, maximumConnections: 4, logger: logger), logger: logger)
        try await porter.migrate()
        let settings = try await porter.pool.query("SELECT current_setting('fsync'), current_setting('synchronous_commit')").first
        print("fsync=\(settings?[0] ?? "?") synchronous_commit=\(settings?[1] ?? "?")")
        try await prepare(porter)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("porter-bench-rescue-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Default timings: only what the bench needs is set.
        let config = folder.appendingPathComponent("porter.json")
        try Data(#"{"sql_schemas": ["porter_bench"], "workers": {"\#(Self.queue)": {"background_workers": \#(concurrency)}}}"#.utf8)
            .write(to: config)
        let processes = try (0..<workers).map { index in
            try BenchWorkerProcess(
                arguments: ["worker", "--queue", Self.queue, "--config", config.path, "--database-url", session.configuration.connectionString],
                log: folder.appendingPathComponent("worker-\(index).log"))
        }
        defer { for process in processes { process.signal(SIGKILL) } }
        let pids = processes.map { Int($0.pid) }
        try await poll("\(workers) workers to register", timeout: .seconds(60)) {
            try await porter.pool.query("SELECT count(*) FROM porter.workers WHERE pid = ANY(\(pids)::integer[])").single(Int.self) == workers
        }
        print("\(workers) worker processes with \(concurrency) slots each, \(jobs) jobs of \(jobMilliseconds) ms")

        // Mid-run: a fifth of the backlog done.
        try await poll("a fifth of the jobs to finish", every: .milliseconds(100), timeout: .seconds(3600)) {
            try await count("finished", porter) >= jobs / 5
        }
        let victim = processes[0]
        let victimID = try await porter.pool.query("SELECT id FROM porter.workers WHERE pid = \(Int(victim.pid))").single(String.self)
        let killedAt = try await porter.pool.query("SELECT clock_timestamp()").single(Date.self)
        victim.signal(SIGKILL)
        _ = try await victim.waitForExit()
        // The jobs its attempts died in: still started by it, until a rescuer takes them.
        let killed = try await porter.pool.query(
            "SELECT coalesce(array_agg(id), '{}') FROM porter.jobs WHERE worker_id = \(victimID) AND status = 'started'").single([Int64].self)
        let backlog = try await count("queued", porter)
        print("killed worker \(victimID) while it ran \(killed.count) jobs, with \(backlog) jobs waiting")

        // Each is rescued and runs again, unless its own commit was already on its way when
        // the process died: then it finished there and has nothing to run again.
        try await poll("the killed worker's jobs to run again", every: .milliseconds(20), timeout: .seconds(600)) {
            try await porter.pool.query("""
                SELECT count(*) FROM porter.jobs
                WHERE id = ANY(\(killed)::bigint[]) AND (status = 'queued' OR (status = 'started' AND worker_id = \(victimID)))
                """).single(Int.self) == 0
        }
        let delays = try await porter.pool.query("""
            SELECT extract(epoch FROM started_at - \(killedAt)::timestamptz)::float8 FROM porter.jobs
            WHERE id = ANY(\(killed)::bigint[]) AND orphaned > 0
            """).map { try $0.decode(Double.self) }
        if delays.count < killed.count {
            print("\(killed.count - delays.count) of them had committed their end as the worker died, and did not need to run again")
        }

        try await poll("the backlog to drain", every: .milliseconds(200), timeout: .seconds(3600)) {
            try await count("finished", porter) + count("failed", porter) == jobs
        }
        let finished = try await count("finished", porter)
        for process in processes.dropFirst() { process.signal(SIGTERM) }
        for process in processes.dropFirst() { _ = try? await process.waitForExit() }
        await porter.close()
        guard finished == jobs else {
            throw CommandFailure(message: "\(finished) of \(jobs) jobs finished; see the worker logs in \(folder.path)")
        }
        try? FileManager.default.removeItem(at: folder)
        print("kill to run again, over the \(delays.count) jobs that ran again: p50 \(format(percentile(delays, 50))) s, max \(format(delays.max() ?? 0)) s")
        print("jobs=\(jobs) workers=\(workers) concurrency=\(concurrency) job_ms=\(jobMilliseconds) backlog_at_kill=\(backlog)"
            + " killed_jobs=\(killed.count) ran_again=\(delays.count) p50_s=\(format(percentile(delays, 50))) max_s=\(format(delays.max() ?? 0))")
    }

    /// The job function and a backlog of jobs calling it, in queue `bench`, emptied first.
    private func prepare(_ porter: PorterClient) async throws {
        try await porter.pool.query("CREATE SCHEMA IF NOT EXISTS porter_bench")
        try await porter.pool.query("""
            CREATE OR REPLACE FUNCTION porter_bench.work(args jsonb) RETURNS void LANGUAGE sql AS $$
                SELECT pg_sleep((args->>'ms')::float8 / 1000)
            $$
            """)
        try await porter.pool.query("DELETE FROM porter.jobs WHERE queue = \(Self.queue)")
        let args = PQJSON(text: #"{"ms": \#(jobMilliseconds)}"#)
        var left = jobs
        while left > 0 {
            let batch = min(left, 1000)
            _ = try await porter.enqueueMany(
                (0..<batch).map { _ in EnqueueRequest(method: "sql:porter_bench.work", args: args, options: EnqueueOptions(queue: Self.queue)) })
            left -= batch
        }
    }

    private func count(_ status: String, _ porter: PorterClient) async throws -> Int {
        try await porter.pool.query(
            "SELECT count(*) FROM porter.jobs WHERE queue = \(Self.queue) AND status = \(status)").single(Int.self)
    }
}
