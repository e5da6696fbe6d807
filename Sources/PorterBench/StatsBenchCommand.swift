import ArgumentParser
import Foundation
import Logging
import Porter
import PorterCLI
import PorterPostgres

/// `porter bench stats`: how long `porter stats` (porter.stats()) and a dashboard page of jobs
/// take on a table with a long history and a deep queue.
struct StatsBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Time porter.stats() and the dashboard's job pages with N finished and M queued jobs; prints p50/p95 in ms.")

    @Option(help: "Finished jobs in the table, \(StatsBenchCommand.finishedRange.text).")
    var finished: Int = 1_000_000

    @Option(help: "Queued jobs in the table, \(StatsBenchCommand.queuedRange.text).")
    var queued: Int = 100_000

    @Option(help: "Timed calls of each kind, \(StatsBenchCommand.samplesRange.text).")
    var samples: Int = 50

    @OptionGroup var connection: ConnectionOptions

    static let finishedRange = FlagRange("--finished", 0...100_000_000)
    static let queuedRange = FlagRange("--queued", 0...100_000_000)
    static let samplesRange = FlagRange("--samples", 1...100_000)

    func validate() throws {
        try Self.finishedRange.check(finished)
        try Self.queuedRange.check(queued)
        try Self.samplesRange.check(samples)
    }

    func run() async throws {
        let session = try DatabaseSession.start(connection)
        defer { session.stop() }
        var logger = Logger(label: "porter.bench")
        logger.logLevel = .warning
        let porter = PorterClient(pool: PQPool(session.configuration, maximumConnections: 2, logger: logger), logger: logger)
        try await porter.migrate()
        let database = try await PQConnection.connect(session.configuration, logger: logger)
        let settings = try await database.query("SELECT current_setting('fsync'), current_setting('synchronous_commit')").first
        print("fsync=\(settings?[0] ?? "?") synchronous_commit=\(settings?[1] ?? "?")")
        try await database.query("DELETE FROM porter.jobs WHERE queue IN ('bench-stats', 'bench-stats-short')")
        // History over a day, 2,000 failures in the last hour, a deep queue in two queues, a
        // few running jobs and a worker reporting figures, as a busy system has.
        try await database.query("""
            INSERT INTO porter.jobs (method, queue, status, attempts, enqueued_at, run_at, started_at, ended_at)
            SELECT 'bench.history', 'bench-stats', 'finished', 1, t - interval '1 s', t - interval '1 s', t - interval '10 ms', t
            FROM (SELECT now() - interval '1 day' + g * (interval '1 day' / \(max(finished, 1))) AS t
                  FROM generate_series(1, \(finished)) AS g) AS history
            """)
        try await database.query("""
            INSERT INTO porter.jobs (method, queue, status, attempts, enqueued_at, run_at, started_at, ended_at, error)
            SELECT 'bench.fail', 'bench-stats', 'failed', 1, now() - interval '1 hour', now() - interval '1 hour',
                   now() - g * interval '1 s', now() - g * interval '1 s', 'boom'
            FROM generate_series(1, 2000) AS g
            """)
        try await database.query("""
            INSERT INTO porter.jobs (method, queue, status, enqueued_at, run_at)
            SELECT 'bench.noop', CASE WHEN g % 4 = 0 THEN 'bench-stats-short' ELSE 'bench-stats' END, 'queued',
                   now() - interval '10 minutes', now() - interval '10 minutes' + g * interval '1 ms'
            FROM generate_series(1, \(queued)) AS g
            """)
        print("added \(finished) finished, 2000 failed and \(queued) queued jobs")

        let clock = ContinuousClock()
        func time(_ label: String, _ query: PQQuery) async throws -> (p50: Double, p95: Double) {
            _ = try await database.query(query)  // warm the plan and the cache once
            var values: [Double] = []
            for _ in 0..<samples {
                values.append(try await clock.measure { _ = try await database.query(query) }.milliseconds)
            }
            let result = (percentile(values, 50), percentile(values, 95))
            print("\(label): p50 \(format(result.0)) ms, p95 \(format(result.1)) ms")
            return result
        }
        // Before any vacuum: every index entry of the new rows is checked against the heap.
        let fresh = try await time("porter.stats(), before autovacuum visits the new rows", "SELECT porter.stats()")
        try await database.query("VACUUM ANALYZE porter.jobs")
        let stats = try await time("porter.stats(), after a vacuum", "SELECT porter.stats()")
        let firstPage = try await time(
            "jobs page 1 (newest 50)", "SELECT id FROM porter.jobs ORDER BY id DESC LIMIT 51")
        let deepPage = try await time(
            "finished jobs, a page half way down",
            "SELECT id FROM porter.jobs WHERE status = 'finished' AND id < (SELECT max(id) / 2 FROM porter.jobs) ORDER BY id DESC LIMIT 51")
        let failedPage = try await time(
            "failed jobs, page 1", "SELECT id FROM porter.jobs WHERE status = 'failed' ORDER BY id DESC LIMIT 51")
        try await database.query("DELETE FROM porter.jobs WHERE queue IN ('bench-stats', 'bench-stats-short')")
        await database.close()
        await porter.close()
        print("finished=\(finished) queued=\(queued) stats_p50_ms=\(format(stats.p50)) stats_p95_ms=\(format(stats.p95))"
            + " stats_unvacuumed_p50_ms=\(format(fresh.p50)) stats_unvacuumed_p95_ms=\(format(fresh.p95))"
            + " jobs_page_p50_ms=\(format(firstPage.p50)) deep_page_p50_ms=\(format(deepPage.p50)) failed_page_p50_ms=\(format(failedPage.p50))")
    }
}
