import ArgumentParser
import Foundation
import Logging
import Porter
import PorterCLI
import PorterPostgres

/// `porter demo`: ScoopJoy's stock sync from "Background Job Patterns", end to end. A sync of
/// 500 outlets is enqueued with its run row in one transaction (a second click is
/// deduplicated), runs in a worker process in chunks of 50 that each commit, reports progress
/// live, survives the worker being killed in the middle (a second worker resumes after the
/// last committed chunk), publishes a summary event, and chains a deduplicated report job.
/// Every claim is checked against the database at the end; any mismatch exits non-zero.
struct StockSyncDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stock-sync",
        abstract: "ScoopJoy's stock sync of 500 outlets, with a worker killed mid-run (the default demo).")

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let clock = ContinuousClock()
        let began = clock.now
        say("ScoopJoy stock sync: Porter's demo")
        let session = try DatabaseSession.start(connection)
        defer { session.stop() }
        var logger = Logger(label: "porter.demo")
        logger.logLevel = .warning
        let porter = PorterClient(pool: PQPool(session.configuration, maximumConnections: 4, logger: logger), logger: logger)
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("porter-demo-\(getpid())")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)

        // 1. Schema and business data.
        let applied = try await porter.migrate()
        try await porter.pool.withConnection { connection in _ = try await connection.execute(ScoopJoy.schema) }
        let (missingWarehouse, negativeStock) = try require(
            try await porter.pool.query(ScoopJoy.badOutlets).first
        ).decode((Int, Int).self)
        say("""

            1. Porter's schema is ready (\(applied.isEmpty ? "already up to date" : "\(applied.count) migrations applied")). \
            Loaded \(ScoopJoy.outletCount) franchise outlets into scoopjoy.outlets:
               \(missingWarehouse) have no warehouse and \(negativeStock) report negative stock.
            """)

        let screen = DemoScreen(live: isatty(STDOUT_FILENO) != 0)
        let realtime = RealtimeListener(client: porter)
        try await realtime.start()
        defer { realtime.stop() }

        // 2. "Sync stock" clicked: the run row and its job commit together.
        let (run, enqueued) = try await porter.pool.withTransaction { transaction in
            let run = try transaction.query("INSERT INTO scoopjoy.sync_runs DEFAULT VALUES RETURNING id").single(Int.self)
            let result = try await porter.enqueue(
                ScoopJoy.SyncStock(run: run), options: EnqueueOptions(jobID: ScoopJoy.syncJobID, deduplicate: true),
                on: transaction)
            return (run, result)
        }
        guard case .enqueued(let syncJob) = enqueued else {
            throw CommandFailure(message: "a sync is already active in this database (job_id \(ScoopJoy.syncJobID)); wait for it or cancel it")
        }
        say("""

            2. "Sync stock" clicked: sync run \(run) and job #\(syncJob) committed in one transaction
               (method \(ScoopJoy.SyncStock.method), job_id \(ScoopJoy.syncJobID), deduplicate).
            """)
        let watcher = Task { await screen.follow(realtime.events(), syncJob: syncJob) }
        defer { watcher.cancel() }

        // 3. A worker process runs it; "Sync" is clicked again while it is in flight.
        let first = try DemoWorker(connectionString: session.configuration.connectionString, log: logs.appendingPathComponent("worker-1.log"))
        await screen.line("\n3. Worker 1 started (pid \(first.pid)).")
        try await poll("the sync job to start", timeout: .seconds(30)) { try await porter.job(id: syncJob)?.status == .started }
        let again = try await porter.enqueue(
            ScoopJoy.SyncStock(run: run), options: EnqueueOptions(jobID: ScoopJoy.syncJobID, deduplicate: true))
        await screen.line(
            "   \"Sync stock\" clicked again while job #\(syncJob) runs: "
                + (again.isDuplicate ? "duplicate of the active job, nothing queued." : "UNEXPECTED: \(again)"))

        // 4. Kill the worker in the middle of the run.
        let chunks = ScoopJoy.outletCount / ScoopJoy.chunkSize
        try await poll("three chunks to commit", timeout: .seconds(30)) {
            try await porter.pool.query("SELECT chunks_done FROM scoopjoy.sync_runs WHERE id = \(run)").single(Int.self) >= 3
        }
        first.kill()
        let committed = try await porter.pool.query("SELECT chunks_done FROM scoopjoy.sync_runs WHERE id = \(run)").single(Int.self)
        await screen.line("\n4. Killed worker 1 with SIGKILL after \(committed) of \(chunks) chunks had committed.")

        // 5. A new worker rescues the job and resumes after the last committed chunk.
        let second = try DemoWorker(connectionString: session.configuration.connectionString, log: logs.appendingPathComponent("worker-2.log"))
        await screen.line("\n5. Worker 2 started (pid \(second.pid)); it finds worker 1 silent for 2 s and requeues job #\(syncJob).")
        let synced = try await poll("the sync job to finish", timeout: .seconds(60)) { () -> JobRecord? in
            guard let job = try await porter.job(id: syncJob), job.status != .started, job.status != .queued else { return nil }
            return job
        }
        guard synced.status == .finished else {
            throw CommandFailure(message: "the sync job ended \(synced.status.rawValue): \(synced.error ?? "")")
        }
        let summary = try await poll("the stock_sync_done event", timeout: .seconds(10)) { await screen.summary }

        // 6. The summary event.
        await screen.line("""

            6. Event stock_sync_done (job #\(syncJob)): total \(summary.total), success \(summary.success), errors \(summary.errors).
               First \(summary.firstErrors.count) errors:
            """)
        for error in summary.firstErrors { await screen.line("     \(error.outlet)  \(error.error)") }

        // 7. The chained report job.
        let reportKey = "scoopjoy-sync-report-\(run)"
        let report = try await poll("the report job to finish", timeout: .seconds(30)) { () -> JobRecord? in
            guard
                let id = try await porter.pool.query(
                    "SELECT id FROM porter.jobs WHERE job_id = \(reportKey) ORDER BY id DESC LIMIT 1"
                ).singleOptional(Int64.self),
                let job = try await porter.job(id: id), job.status == .finished
            else { return nil }
            return job
        }
        let logRows = try await porter.pool.query("SELECT count(*) FROM scoopjoy.sync_log WHERE run_id = \(run)").single(Int.self)
        await screen.line("""

            7. Report job #\(report.id) (\(report.method), queue \(report.queue), job_id \(reportKey)) was enqueued in the \
            sync job's last transaction and wrote \(logRows) sync_log row.
            """)

        // The checks behind every claim above.
        let (stockRows, timesSynced) = try require(
            try await porter.pool.query("SELECT count(*), coalesce(max(times_synced), 0) FROM scoopjoy.stock_levels").first
        ).decode((Int, Int).self)
        let errorRows = try await porter.pool.query("SELECT count(*) FROM scoopjoy.sync_errors WHERE run_id = \(run)").single(Int.self)
        let reportJobs = try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE job_id = \(reportKey)").single(Int.self)
        second.terminate()
        let secondExit = try await second.waitForExit()
        let seconds = (clock.now - began).components.seconds
        await screen.line("""

            Summary
               outlets:   \(ScoopJoy.outletCount) processed = \(stockRows) stock levels written + \(errorRows) errors recorded
               resume:    every stock level written exactly once (max times_synced = \(timesSynced)), across \
            \(synced.attempts) runs of job #\(syncJob) (rescued \(synced.orphaned) time\(synced.orphaned == 1 ? "" : "s"))
               report:    \(reportJobs) report job, \(logRows) sync_log row
               worker 2:  stopped with SIGTERM, exit status \(secondExit)
               took \(seconds) s; worker logs in \(logs.path)
            """)
        await porter.close()

        let expectedErrors = missingWarehouse + negativeStock
        guard again.isDuplicate, stockRows + errorRows == ScoopJoy.outletCount, errorRows == expectedErrors,
            summary.total == ScoopJoy.outletCount, summary.errors == expectedErrors, summary.firstErrors.count == min(20, expectedErrors),
            timesSynced == 1, synced.orphaned >= 1, reportJobs == 1, logRows == 1, secondExit == 0
        else {
            throw CommandFailure(message: "the demo did not end as expected (see the summary above)")
        }
        say("\nDone.")
    }
}
