import PorterPostgres

/// The statements of a worker's periodic upkeep (`Maintenance`): rescue, pruning, vacuum.
/// Built-ins are named with `pg_catalog.`, as in `JobRunQueries`.
enum MaintenanceQueries {
    /// Rescues the started jobs of dead workers, putting them back in the queue (or failing
    /// them as poison once orphaned `maxOrphaned` times, `PoisonRule`: the threshold
    /// compared as `PoisonRule.isPoison` does, the error its format) and waking their queues'
    /// workers.
    ///
    /// A worker is dead when its session lock (PorterLockKey.workerSession, lock_key) has been
    /// free for `sessionGrace`, or, when `trustHeartbeats`, when its heartbeat is `rescueAfter`
    /// old. A worker process that dies ends its session, and with it the lock, at once. The
    /// probe tries each lock for this transaction only (`pg_try_advisory_xact_lock`, released
    /// at commit); the first probe to find one free records the time (session_lost_at), and a
    /// later one declares the worker dead if it is still free then, which leaves a live worker
    /// whose session ended (a server restart, a failover) the grace to reconnect and register
    /// again with a new lock. A free lock is recorded only for a worker that heartbeat in the
    /// last half of `rescueAfter`: after a longer outage every live worker's lock is free
    /// until it reconnects, at its own pace, and only the heartbeat (trusted once the rescuer
    /// has itself been back for `rescueAfter`, `DatabaseContact`) can tell. Each row is
    /// compared on its lock_key, so a worker that did re-register meanwhile is left alone.
    /// porter.workers holds a row per worker process; its rows are read in full.
    ///
    /// `prober` is the worker running the probe on its own session, whose lock that session
    /// holds (and so could take again): it is not probed.
    ///
    /// `everyStartedJob` also rescues started jobs whose worker row is missing (or that have
    /// none), which costs a walk of jobs_started_worker_idx; without it the jobs of the workers
    /// found dead are found through that index by worker id. SKIP LOCKED keeps concurrent
    /// rescuers apart; the re-checked `status = 'started'` keeps a job that just completed
    /// untouched. A rescued job keeps its run_at, so it keeps its place in the queue, ahead of
    /// the jobs enqueued after it. The count saturates, so a row stored with orphaned at the
    /// integer's maximum cannot make every rescue fail. Returns each rescued job's id, new
    /// status and queue.
    static func rescue(
        rescueAfter: Duration, sessionGrace: Duration, maxOrphaned: Int, everyStartedJob: Bool, trustHeartbeats: Bool = true,
        prober: String? = nil
    ) -> PQQuery {
        """
        WITH probe AS MATERIALIZED (
            SELECT id, lock_key, session_lost_at, pg_catalog.pg_try_advisory_xact_lock(\(PorterLockKey.workerSession), lock_key) AS gone
            FROM porter.workers WHERE lock_key IS NOT NULL AND id IS DISTINCT FROM \(prober)
        ), marked AS (
            UPDATE porter.workers AS w SET session_lost_at = pg_catalog.now()
            FROM probe p
            WHERE w.id = p.id AND w.lock_key = p.lock_key AND p.gone AND w.session_lost_at IS NULL
              AND w.heartbeat_at >= pg_catalog.now() - pg_catalog.make_interval(secs => \((rescueAfter / 2).seconds))
        ), dead AS (
            DELETE FROM porter.workers AS w
            WHERE (\(trustHeartbeats) AND w.heartbeat_at < pg_catalog.now() - pg_catalog.make_interval(secs => \(rescueAfter.seconds)))
               OR EXISTS (SELECT 1 FROM probe p WHERE p.id = w.id AND p.gone AND p.lock_key = w.lock_key
                          AND w.session_lost_at < pg_catalog.now() - pg_catalog.make_interval(secs => \(sessionGrace.seconds)))
            RETURNING id
        ), orphans AS (
            SELECT j.id, least(j.orphaned, 2147483646) + 1 AS rescues FROM porter.jobs j
            WHERE j.status = 'started'
              AND (j.worker_id IN (SELECT id FROM dead)
                   OR (\(everyStartedJob) AND (j.worker_id IS NULL
                       OR NOT EXISTS (SELECT 1 FROM porter.workers w WHERE w.id = j.worker_id))))
            FOR UPDATE SKIP LOCKED
        ), rescued AS (
            UPDATE porter.jobs AS j
            SET orphaned = orphans.rescues,
                status = CASE WHEN orphans.rescues >= \(maxOrphaned) THEN 'failed' ELSE 'queued' END,
                ended_at = CASE WHEN orphans.rescues >= \(maxOrphaned) THEN pg_catalog.now() END,
                error = CASE WHEN orphans.rescues >= \(maxOrphaned)
                             THEN pg_catalog.format(\(PoisonRule.errorFormat)::pg_catalog.text, orphans.rescues)
                             ELSE pg_catalog.format('worker %s died while running the job; requeued', coalesce(j.worker_id, '?')) END,
                errors = j.errors || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                    'attempt', j.attempts, 'error', 'worker died while running the job', 'at', pg_catalog.now(), 'worker', j.worker_id)),
                worker_id = NULL, cancel_requested_at = NULL
            FROM orphans WHERE j.id = orphans.id
            RETURNING j.id, j.status, j.queue
        ), woken AS (
            SELECT pg_catalog.count(pg_catalog.pg_notify('\(unsafeRaw: PorterChannel.enqueue)', q.queue)) AS queues
            FROM (SELECT DISTINCT queue FROM rescued WHERE status = 'queued') AS q
        )
        SELECT r.id, r.status, r.queue FROM rescued r CROSS JOIN woken
        """
    }

    /// Whether any worker other than `prober` may be dead, by the rules of `rescue`: its
    /// session lock is free (tried for this transaction only) and it heartbeat in the last half
    /// of `rescueAfter`, or, when `trustHeartbeats`, its heartbeat is `rescueAfter` old. The
    /// cheap check a worker runs twice a second before `rescue`. Reads porter.workers, a row per
    /// worker process.
    static func anyWorkerMaybeDead(rescueAfter: Duration, trustHeartbeats: Bool, prober: String) -> PQQuery {
        """
        SELECT EXISTS (
            SELECT 1 FROM porter.workers
            WHERE id <> \(prober)
              AND ((\(trustHeartbeats) AND heartbeat_at < pg_catalog.now() - pg_catalog.make_interval(secs => \(rescueAfter.seconds)))
                   OR (lock_key IS NOT NULL AND (session_lost_at IS NOT NULL
                       OR heartbeat_at >= pg_catalog.now() - pg_catalog.make_interval(secs => \((rescueAfter / 2).seconds)))
                       AND pg_catalog.pg_try_advisory_xact_lock(\(PorterLockKey.workerSession), lock_key)))
        )
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
        WITH gate AS (SELECT pg_catalog.pg_try_advisory_xact_lock(\(PorterLockKey.prune)) AS won),
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
