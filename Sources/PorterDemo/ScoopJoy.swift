import Foundation
import Porter
import PorterCLI
import PorterPostgres

/// ScoopJoy, the ice-cream franchise of "Background Job Patterns": its outlets table, and the
/// two jobs of its stock sync. `porter demo` runs them end to end.
enum ScoopJoy {
    static let outletCount = 500
    static let chunkSize = 50
    /// How long the pretend stock API takes per outlet, so the sync runs long enough to watch
    /// (and to kill a worker in the middle).
    static let apiLatency: Duration = .milliseconds(10)
    /// The dedup key of the sync: one active sync at a time, however often "Sync" is clicked.
    static let syncJobID = "scoopjoy-stock-sync"

    /// The sync job: every outlet's stock level, in chunks of 50 that each commit.
    struct SyncStock: Job {
        static let method = "scoopjoy.sync_stock"
        var run: Int
    }

    /// The report job, chained from the sync: writes the run's sync_log row.
    struct WriteSyncReport: Job {
        static let method = "scoopjoy.write_sync_report"
        var run: Int
    }

    /// The business tables, created afresh: 500 outlets, some with bad data. Outlets 23, 46,
    /// ... have no warehouse (caught by the job); 59, 118, ... report negative stock (refused
    /// by a CHECK constraint of stock_levels).
    static let schema = """
        -- Jobs of an earlier run (on a database given with --database-url) belong to the tables
        -- dropped next; a sync still marked active would swallow this run's enqueue as a duplicate.
        DELETE FROM porter.jobs WHERE method IN ('\(SyncStock.method)', '\(WriteSyncReport.method)');
        DROP SCHEMA IF EXISTS scoopjoy CASCADE;
        CREATE SCHEMA scoopjoy;
        CREATE TABLE scoopjoy.outlets (
            id             integer PRIMARY KEY,
            code           text    NOT NULL UNIQUE,
            city           text    NOT NULL,
            warehouse      text,
            reported_stock integer NOT NULL
        );
        INSERT INTO scoopjoy.outlets
        SELECT i, 'SJ-' || lpad(i::text, 4, '0'),
               (ARRAY['Kochi', 'Chennai', 'Bengaluru', 'Mumbai', 'Pune', 'Delhi'])[1 + i % 6],
               CASE WHEN i % 23 = 0 THEN NULL ELSE (ARRAY['WH-South', 'WH-West', 'WH-North'])[1 + i % 3] END,
               CASE WHEN i % 59 = 0 THEN -(i % 40) - 1 ELSE 20 + (i * 37) % 480 END
        FROM generate_series(1, \(outletCount)) AS i;
        CREATE TABLE scoopjoy.stock_levels (
            outlet_id    integer     PRIMARY KEY REFERENCES scoopjoy.outlets,
            warehouse    text        NOT NULL,
            quantity     integer     NOT NULL CONSTRAINT stock_levels_quantity_not_negative CHECK (quantity >= 0),
            run_id       integer     NOT NULL,
            synced_at    timestamptz NOT NULL DEFAULT now(),
            -- Proves the resume: a redone chunk would sync its outlets twice.
            times_synced integer     NOT NULL DEFAULT 1
        );
        -- A sync run and its checkpoint: chunks_done commits with each chunk's rows.
        CREATE TABLE scoopjoy.sync_runs (
            id           serial      PRIMARY KEY,
            requested_at timestamptz NOT NULL DEFAULT now(),
            chunks_done  integer     NOT NULL DEFAULT 0,
            succeeded    integer     NOT NULL DEFAULT 0,
            failed       integer     NOT NULL DEFAULT 0,
            finished_at  timestamptz
        );
        CREATE TABLE scoopjoy.sync_errors (
            run_id    integer NOT NULL,
            outlet_id integer NOT NULL,
            error     text    NOT NULL,
            PRIMARY KEY (run_id, outlet_id)
        );
        CREATE TABLE scoopjoy.sync_log (
            run_id     integer     PRIMARY KEY,
            written_at timestamptz NOT NULL DEFAULT now(),
            total      integer     NOT NULL,
            succeeded  integer     NOT NULL,
            failed     integer     NOT NULL,
            summary    jsonb       NOT NULL
        );
        """

    /// Counts the outlets with bad data, by kind, so the demo can check the sync against the data.
    static let badOutlets: PQQuery = """
        SELECT count(*) FILTER (WHERE warehouse IS NULL),
               count(*) FILTER (WHERE warehouse IS NOT NULL AND reported_stock < 0)
        FROM scoopjoy.outlets
        """

    /// The handlers a ScoopJoy worker runs.
    static var registry: JobRegistry {
        var registry = JobRegistry()
        registry.register(SyncStock.self) { job, context in try await syncStock(run: job.run, context: context) }
        registry.register(WriteSyncReport.self) { job, context in try await writeReport(run: job.run, context: context) }
        return registry
    }

    private struct Outlet: Sendable {
        var id: Int
        var code: String
        var city: String
        var warehouse: String?
        var reportedStock: Int
    }

    /// Syncs every outlet, resuming after the last committed chunk. Each chunk commits its
    /// stock levels, its errors and the checkpoint together; an outlet's failure is recorded
    /// and the chunk goes on. The last step commits the summary event, the chained report job
    /// and the job's own `finished` status in one transaction.
    static func syncStock(run: Int, context: JobContext) async throws {
        let chunks = (outletCount + chunkSize - 1) / chunkSize
        let done = try await context.pool.query("SELECT chunks_done FROM scoopjoy.sync_runs WHERE id = \(run)").single(Int.self)
        if done > 0 {
            try await context.publishRealtime(
                event: "stock_sync_resumed",
                message: try PQJSON(encoding: ["chunk": done + 1, "committed_outlets": done * chunkSize]))
        }
        for chunk in done..<chunks {
            let outlets = try await context.pool.query("""
                SELECT id, code, city, warehouse, reported_stock FROM scoopjoy.outlets
                ORDER BY id OFFSET \(chunk * chunkSize) LIMIT \(chunkSize)
                """).map { row in
                let (id, code, city, warehouse, stock) = try row.decode((Int, String, String, String?, Int).self)
                return Outlet(id: id, code: code, city: city, warehouse: warehouse, reportedStock: stock)
            }
            try await context.pool.withTransaction { transaction in
                var succeeded = 0
                var failed = 0
                for outlet in outlets {
                    try await Task.sleep(for: apiLatency)  // the stock API
                    if let error = sync(outlet, run: run, on: transaction) {
                        try transaction.query(
                            "INSERT INTO scoopjoy.sync_errors (run_id, outlet_id, error) VALUES (\(run), \(outlet.id), \(error))")
                        failed += 1
                    } else {
                        succeeded += 1
                    }
                    try await context.publishProgress(
                        percent: Double(outlet.id) * 100 / Double(outletCount), title: "Syncing stock",
                        description: "\(outlet.code) \(outlet.city), chunk \(chunk + 1) of \(chunks)")
                }
                try transaction.query("""
                    UPDATE scoopjoy.sync_runs SET chunks_done = \(chunk + 1), succeeded = succeeded + \(succeeded),
                        failed = failed + \(failed)
                    WHERE id = \(run)
                    """)
            }
        }
        let jobID = context.id
        try await context.finish { transaction in
            try transaction.query("UPDATE scoopjoy.sync_runs SET finished_at = now() WHERE id = \(run)")
            // The summary event, delivered when this transaction commits.
            try transaction.query("""
                SELECT porter.publish_realtime('stock_sync_done', jsonb_build_object(
                    'run', r.id, 'total', \(outletCount)::integer, 'success', r.succeeded, 'errors', r.failed,
                    'first_errors', coalesce((
                        SELECT jsonb_agg(jsonb_build_object('outlet', o.code, 'error', e.error) ORDER BY e.outlet_id)
                        FROM (SELECT * FROM scoopjoy.sync_errors WHERE run_id = r.id ORDER BY outlet_id LIMIT 20) e
                        JOIN scoopjoy.outlets o ON o.id = e.outlet_id), '[]')), \(jobID)::bigint)
                FROM scoopjoy.sync_runs r WHERE r.id = \(run)
                """)
            try await context.porter.enqueue(
                WriteSyncReport(run: run),
                options: EnqueueOptions(queue: "short", jobID: "scoopjoy-sync-report-\(run)", deduplicate: true),
                on: transaction)
        }
    }

    /// Syncs one outlet inside the chunk's transaction; returns its error instead of throwing,
    /// so one bad outlet does not sink the chunk. A database refusal is undone by a savepoint.
    private static func sync(_ outlet: Outlet, run: Int, on transaction: isolated PQConnection) -> String? {
        guard let warehouse = outlet.warehouse else {
            return "missing warehouse: \(outlet.code) has no warehouse assigned"
        }
        do {
            try transaction.execute("SAVEPOINT outlet")
            try transaction.query("""
                INSERT INTO scoopjoy.stock_levels (outlet_id, warehouse, quantity, run_id)
                VALUES (\(outlet.id), \(warehouse), \(outlet.reportedStock), \(run))
                ON CONFLICT (outlet_id) DO UPDATE SET quantity = excluded.quantity, warehouse = excluded.warehouse,
                    run_id = excluded.run_id, synced_at = now(), times_synced = scoopjoy.stock_levels.times_synced + 1
                """)
            try transaction.execute("RELEASE SAVEPOINT outlet")
            return nil
        } catch {
            _ = try? transaction.execute("ROLLBACK TO SAVEPOINT outlet")
            if let error = error as? PQError {
                return "refused by the database: \(outlet.code) reported stock \(outlet.reportedStock), "
                    + "violating \(error.constraint ?? error.message) [SQLSTATE \(error.sqlState?.rawValue ?? "?")]"
            }
            return "\(error)"
        }
    }

    /// Writes the run's sync_log row, once: the job's dedup key keeps a second report job out,
    /// and the row commits with the job's `finished` status.
    static func writeReport(run: Int, context: JobContext) async throws {
        try await context.finish { transaction in
            try transaction.query("""
                INSERT INTO scoopjoy.sync_log (run_id, total, succeeded, failed, summary)
                SELECT r.id, r.succeeded + r.failed, r.succeeded, r.failed, jsonb_build_object(
                    'errors_by_kind', (SELECT coalesce(jsonb_object_agg(kind, n), '{}') FROM (
                        SELECT split_part(error, ':', 1) AS kind, count(*) AS n
                        FROM scoopjoy.sync_errors WHERE run_id = r.id GROUP BY 1) k))
                FROM scoopjoy.sync_runs r WHERE r.id = \(run)
                ON CONFLICT (run_id) DO NOTHING
                """)
        }
    }
}
