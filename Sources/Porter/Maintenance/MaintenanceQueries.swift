import PorterPostgres

/// The statements of a worker's periodic upkeep (`Maintenance`): rescue, pruning, vacuum.
/// Built-ins are named with `pg_catalog.`, as in `JobRunQueries`.
enum MaintenanceQueries {
    /// Rescues the started jobs of dead workers: workers silent for `rescueAfter` are removed,
    /// and their jobs (and any started job whose worker row is gone) go back in the queue, or
    /// fail as poison once rescued `maxOrphaned` times. SKIP LOCKED keeps concurrent rescuers
    /// apart; the re-checked `status = 'started'` keeps a job that just completed untouched.
    /// The count saturates, so a row stored with orphaned at the integer's maximum cannot make
    /// every rescue fail. Returns each rescued job's id, new status and queue.
    static func rescue(rescueAfter: Duration, maxOrphaned: Int) -> PQQuery {
        """
        WITH dead AS (
            DELETE FROM porter.workers WHERE heartbeat_at < pg_catalog.now() - pg_catalog.make_interval(secs => \(rescueAfter.seconds))
            RETURNING id
        ), orphans AS (
            SELECT j.id, least(j.orphaned, 2147483646) + 1 AS rescues FROM porter.jobs j
            WHERE j.status = 'started'
              AND (j.worker_id IS NULL OR j.worker_id IN (SELECT id FROM dead)
                   OR NOT EXISTS (SELECT 1 FROM porter.workers w WHERE w.id = j.worker_id))
            FOR UPDATE SKIP LOCKED
        )
        UPDATE porter.jobs AS j
        SET orphaned = orphans.rescues,
            status = CASE WHEN orphans.rescues >= \(maxOrphaned) THEN 'failed' ELSE 'queued' END,
            ended_at = CASE WHEN orphans.rescues >= \(maxOrphaned) THEN pg_catalog.now() END,
            error = CASE WHEN orphans.rescues >= \(maxOrphaned)
                         THEN pg_catalog.format('failed as a poison job: its worker died while running it %s times', orphans.rescues)
                         ELSE pg_catalog.format('worker %s died while running the job; requeued', coalesce(j.worker_id, '?')) END,
            errors = j.errors || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                'attempt', j.attempts, 'error', 'worker died while running the job', 'at', pg_catalog.now(), 'worker', j.worker_id)),
            run_at = pg_catalog.now(), worker_id = NULL, cancel_requested_at = NULL
        FROM orphans WHERE j.id = orphans.id
        RETURNING j.id, j.status, j.queue
        """
    }

    /// The dead row versions in porter.jobs, from the statistics collector (about a second
    /// behind); 0 when this role may not vacuum the table (only its owner's members may), so a
    /// worker that cannot vacuum does not try every interval. Reads catalogs, no table.
    static let deadJobRows: PQQuery = """
        SELECT coalesce((SELECT s.n_dead_tup FROM pg_catalog.pg_stat_user_tables s JOIN pg_catalog.pg_class c ON c.oid = s.relid
                         WHERE s.relid = 'porter.jobs'::regclass AND pg_catalog.pg_has_role(c.relowner, 'MEMBER')), 0)
        """

    /// Vacuums porter.jobs; skipped at once when another vacuum (autovacuum, another worker)
    /// holds the table, so two workers never vacuum it together.
    static let vacuumJobs: PQQuery = "VACUUM (SKIP_LOCKED) porter.jobs"

    /// Deletes finished jobs older than `finished` and failed or canceled ones older than
    /// `failed`, at most `limit` each call, if this session wins the pruning lock (one pruner at
    /// a time). Served by jobs_ended_at_idx.
    static func prune(finished: Duration, failed: Duration, limit: Int) -> PQQuery {
        """
        WITH gate AS (SELECT pg_catalog.pg_try_advisory_xact_lock(\(Migrator.advisoryLockKey + 1)) AS won),
        doomed AS (
            SELECT id FROM porter.jobs
            WHERE (SELECT won FROM gate)
              AND ((status = 'finished' AND ended_at < pg_catalog.now() - pg_catalog.make_interval(secs => \(finished.seconds)))
                OR (status IN ('failed', 'canceled') AND ended_at < pg_catalog.now() - pg_catalog.make_interval(secs => \(failed.seconds))))
            LIMIT \(limit)
        )
        DELETE FROM porter.jobs WHERE id IN (SELECT id FROM doomed)
        """
    }

    /// Forgets scheduler fires older than a week: the exactly-once key only matters around the
    /// current fire time, since each entry's next fire time only moves forward. Served by
    /// schedule_fires_fired_at_idx.
    static let pruneScheduleFires: PQQuery =
        "DELETE FROM porter.schedule_fires WHERE fired_at < pg_catalog.now() - interval '7 days'"
}
