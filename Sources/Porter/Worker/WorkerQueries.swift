import PorterPostgres

/// The SQL the worker runtime runs, in one place. Every state change of a started job is
/// guarded by `status = 'started'`, the worker holding it and its attempt number, so a worker
/// never overwrites a job that a rescuer gave to someone else, and a rescuer never overwrites
/// a job that completed in the meantime.
enum WorkerQueries {
    /// Registers (or re-registers) a worker process; served by workers_pkey.
    static func register(id: String, host: String, pid: Int, queues: [String]) -> PostgresQuery {
        """
        INSERT INTO porter.workers (id, host, pid, queues) VALUES (\(id), \(host), \(pid), \(queues)::text[])
        ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), queues = excluded.queues
        """
    }

    /// Records that a worker is alive; no row back means a rescuer already declared it dead.
    static func heartbeat(id: String) -> PostgresQuery {
        "UPDATE porter.workers SET heartbeat_at = now() WHERE id = \(id) RETURNING id"
    }

    /// Removes a worker at shutdown; served by workers_pkey.
    static func deregister(id: String) -> PostgresQuery {
        "DELETE FROM porter.workers WHERE id = \(id)"
    }

    /// The jobs (and attempts) the database shows as started by this worker, and whether
    /// `porter cancel` asked to stop each; served by jobs_started_worker_idx.
    static func heldJobs(workerID: String) -> PostgresQuery {
        "SELECT id, attempts, cancel_requested_at IS NOT NULL FROM porter.jobs WHERE worker_id = \(workerID) AND status = 'started'"
    }

    /// Claims up to `limit` runnable jobs of one queue in one statement: at-front first, then
    /// priority, run_at, id; jobs whose run_at is in the future are left alone. Walks
    /// jobs_claim_idx in order; SKIP LOCKED lets claimers on other workers take other rows.
    ///
    /// The claim sends no state event itself: building and queueing one notification per job
    /// would sit on the claim loop's path, and a notifying commit waits for NOTIFY's
    /// cluster-wide lock, which a completion holds through its WAL flush. The completer sends
    /// the started events right after (`announceStarted`).
    ///
    /// The limit is written into the text, not bound: with `LIMIT $2` PostgreSQL's generic plan
    /// assumes a tenth of the queue, costs more than a custom plan, and so every claim was
    /// planned anew (0.2 ms, a tenth of a small worker's CPU). With the limit in the text each
    /// prepared claim gets a generic plan as good as a custom one and keeps it. `claimSize`
    /// keeps the number of distinct texts small.
    static func claim(queue: String, limit: Int, workerID: String) -> PostgresQuery {
        """
        WITH next AS (
            SELECT id FROM porter.jobs
            WHERE queue = \(queue) AND status IN ('queued', 'scheduled') AND run_at <= now()
                AND \(unsafeRaw: asynchronousCommit) AND \(unsafeRaw: withoutJobEvents)
            ORDER BY at_front DESC, priority, run_at, id
            LIMIT \(unsafeRaw: String(limit))
            FOR UPDATE SKIP LOCKED
        )
        UPDATE porter.jobs AS j
        SET status = 'started', started_at = now(), ended_at = NULL, attempts = j.attempts + 1,
            worker_id = \(workerID), cancel_requested_at = NULL
        FROM next WHERE j.id = next.id
        RETURNING j.id, j.job_id, j.method, j.queue, j.args, j.attempts, j.max_attempts, j.timeout
        """
    }

    /// The batch to claim for `free` slots: `free` itself up to 16, else the largest of a few
    /// sizes not above it, so that claims use about 30 distinct statement texts at most.
    static func claimSize(free: Int) -> Int {
        guard free > 16 else { return free }
        var size = 16
        while size * 5 / 4 <= free { size = size * 5 / 4 }
        return size
    }

    /// Makes the claim's own commit asynchronous: it does not wait for the WAL flush. Any
    /// later durable commit (a completion, an sql: job) flushes the claim before it, and the
    /// WAL writer does within 0.6 s. A claim lost in a server crash inside that window means
    /// the job runs again; if another worker claims it while the first still runs it, the
    /// first one's next heartbeat stops its run (`heldJobs`).
    /// Written as a condition that is always true and evaluated once, so it costs no round trip.
    private static let asynchronousCommit = "(SELECT set_config('synchronous_commit', 'off', true)) = 'off'"

    /// Switches job state events off for this transaction (see migration 0009), written the
    /// same way.
    private static let withoutJobEvents = "(SELECT set_config('porter.job_events', 'off', true)) = 'off'"

    /// Sends the `started` events of claimed jobs, in claim order and in the trigger's payload
    /// (porter.job_event_payload, migration 0010), once their claim has committed.
    /// Asynchronous commit like the claim's, so it holds NOTIFY's lock only briefly. Reads
    /// nothing but its argument.
    static func announceStarted(_ jobs: PostgresJSON) -> PostgresQuery {
        """
        SELECT count(pg_notify('porter_realtime', porter.job_event_payload(s.id, 'started', s.method, s.queue, s.attempt, NULL)))
        FROM jsonb_to_recordset(\(jobs)::jsonb) AS s(id bigint, method text, queue text, attempt integer)
        WHERE \(unsafeRaw: asynchronousCommit)
        """
    }

    /// Completes a batch of jobs in one statement. Each element of the JSON array carries id,
    /// attempt, status (finished, failed, scheduled for a retry, canceled), result, error and
    /// retry_in (seconds). Returns the ids it changed; served by jobs_pkey.
    static func complete(_ batch: PostgresJSON, workerID: String, jobEvents: Bool = true) -> PostgresQuery {
        """
        UPDATE porter.jobs AS j
        SET status = o.status,
            ended_at = CASE WHEN o.status = 'scheduled' THEN NULL ELSE now() END,
            result = o.result,
            error = o.error,
            errors = CASE WHEN o.error IS NULL THEN j.errors
                          ELSE j.errors || jsonb_build_array(jsonb_build_object(
                              'attempt', j.attempts, 'error', o.error, 'at', now(), 'worker', j.worker_id)) END,
            run_at = CASE WHEN o.status = 'scheduled' THEN now() + make_interval(secs => o.retry_in) ELSE j.run_at END,
            worker_id = NULL,
            cancel_requested_at = NULL
        FROM jsonb_to_recordset(\(batch)::jsonb)
             AS o(id bigint, attempt integer, status text, result jsonb, error text, retry_in float8)
        WHERE j.id = o.id AND j.status = 'started' AND j.worker_id = \(workerID) AND j.attempts = o.attempt
            AND \(unsafeRaw: jobEvents ? "true" : withoutJobEvents)
        RETURNING j.id
        """
    }

    /// Finishes one sql: job inside the job's own transaction, so its effects and its status
    /// commit together; zero rows means the job is no longer ours and the transaction must roll back.
    static func finishInTransaction(id: Int64, attempt: Int, workerID: String, result: PostgresJSON?) -> PostgresQuery {
        """
        UPDATE porter.jobs SET status = 'finished', ended_at = now(), result = \(result)::jsonb, error = NULL,
            worker_id = NULL, cancel_requested_at = NULL
        WHERE id = \(id) AND status = 'started' AND worker_id = \(workerID) AND attempts = \(attempt)
        """
    }

    /// Puts started jobs back in the queue at shutdown, as if never started: the attempt is
    /// not counted against the job.
    static func requeue(ids: [Int64], workerID: String) -> PostgresQuery {
        """
        UPDATE porter.jobs SET status = 'queued', started_at = NULL, worker_id = NULL, run_at = now(),
            attempts = greatest(attempts - 1, 0), cancel_requested_at = NULL
        WHERE id = ANY(\(ids)::bigint[]) AND status = 'started' AND worker_id = \(workerID)
        """
    }

    /// Rescues the started jobs of dead workers: workers silent for `rescueAfter` are removed,
    /// and their jobs (and any started job whose worker row is gone) go back in the queue, or
    /// fail as poison once rescued `maxOrphaned` times. SKIP LOCKED keeps concurrent rescuers
    /// apart; the re-checked `status = 'started'` keeps a job that just completed untouched.
    static func rescue(rescueAfter: Duration, maxOrphaned: Int) -> PostgresQuery {
        """
        WITH dead AS (
            DELETE FROM porter.workers WHERE heartbeat_at < now() - make_interval(secs => \(rescueAfter.seconds))
            RETURNING id
        ), orphans AS (
            SELECT j.id FROM porter.jobs j
            WHERE j.status = 'started'
              AND (j.worker_id IS NULL OR j.worker_id IN (SELECT id FROM dead)
                   OR NOT EXISTS (SELECT 1 FROM porter.workers w WHERE w.id = j.worker_id))
            FOR UPDATE SKIP LOCKED
        )
        UPDATE porter.jobs AS j
        SET orphaned = j.orphaned + 1,
            status = CASE WHEN j.orphaned + 1 >= \(maxOrphaned) THEN 'failed' ELSE 'queued' END,
            ended_at = CASE WHEN j.orphaned + 1 >= \(maxOrphaned) THEN now() END,
            error = CASE WHEN j.orphaned + 1 >= \(maxOrphaned)
                         THEN format('failed as a poison job: its worker died while running it %s times', j.orphaned + 1)
                         ELSE format('worker %s died while running the job; requeued', coalesce(j.worker_id, '?')) END,
            errors = j.errors || jsonb_build_array(jsonb_build_object(
                'attempt', j.attempts, 'error', 'worker died while running the job', 'at', now(), 'worker', j.worker_id)),
            run_at = now(), worker_id = NULL, cancel_requested_at = NULL
        FROM orphans WHERE j.id = orphans.id
        RETURNING j.id, j.status
        """
    }

    /// The dead row versions in porter.jobs, from the statistics collector (about a second
    /// behind); 0 when this role may not vacuum the table (only its owner's members may), so a
    /// worker that cannot vacuum does not try every interval. Reads catalogs, no table.
    static let deadJobRows: PostgresQuery = """
        SELECT coalesce((SELECT s.n_dead_tup FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
                         WHERE s.relid = 'porter.jobs'::regclass AND pg_has_role(c.relowner, 'MEMBER')), 0)
        """

    /// Vacuums porter.jobs; skipped at once when another vacuum (autovacuum, another worker)
    /// holds the table, so two workers never vacuum it together.
    static let vacuumJobs: PostgresQuery = "VACUUM (SKIP_LOCKED) porter.jobs"

    /// Deletes finished jobs older than `finished` and failed or canceled ones older than
    /// `failed`, at most `limit` each call, if this session wins the pruning lock (one pruner at
    /// a time). Served by jobs_ended_at_idx.
    static func prune(finished: Duration, failed: Duration, limit: Int) -> PostgresQuery {
        """
        WITH gate AS (SELECT pg_try_advisory_xact_lock(\(Migrator.advisoryLockKey + 1)) AS won),
        doomed AS (
            SELECT id FROM porter.jobs
            WHERE (SELECT won FROM gate)
              AND ((status = 'finished' AND ended_at < now() - make_interval(secs => \(finished.seconds)))
                OR (status IN ('failed', 'canceled') AND ended_at < now() - make_interval(secs => \(failed.seconds))))
            LIMIT \(limit)
        )
        DELETE FROM porter.jobs WHERE id IN (SELECT id FROM doomed)
        """
    }

    /// Forgets scheduler fires older than a week: the exactly-once key only matters around the
    /// current fire time, since each entry's next fire time only moves forward. Served by
    /// schedule_fires_fired_at_idx.
    static let pruneScheduleFires: PostgresQuery =
        "DELETE FROM porter.schedule_fires WHERE fired_at < now() - interval '7 days'"

    /// Locks a job `porter retry` is about to requeue; served by jobs_pkey.
    static func lockForRetry(id: Int64) -> PostgresQuery {
        "SELECT status, depends_on FROM porter.jobs WHERE id = \(id) FOR UPDATE"
    }

    /// The parents of a job that have not finished, locked so none ends unseen before the
    /// retry commits (as an enqueue with depends_on locks them). A pruned parent had finished.
    /// Served by jobs_pkey.
    static func unfinishedParents(_ ids: [Int64]) -> PostgresQuery {
        """
        SELECT id, method, status FROM porter.jobs
        WHERE id = ANY(\(ids)::bigint[]) AND status <> 'finished' ORDER BY id FOR SHARE
        """
    }

    /// Requeues a failed or canceled job with fresh attempts (`porter retry`), or defers it
    /// while its parents run. Returns its queue.
    static func retry(id: Int64, waitForParents: Bool) -> PostgresQuery {
        """
        UPDATE porter.jobs SET status = \(waitForParents ? "deferred" : "queued"), run_at = now(), ended_at = NULL,
            started_at = NULL, attempts = 0, orphaned = 0, worker_id = NULL, cancel_requested_at = NULL
        WHERE id = \(id)
        RETURNING queue
        """
    }

    /// Brings back as `deferred` the dependants canceled because job `id` ended badly, and in
    /// cascade theirs: each such cancel names its parent (porter.dependency_error). The walk
    /// starts at the job itself, which it leaves as the retry set it. Reads the canceled jobs
    /// with depends_on without an index: a rare admin command.
    static func reviveDependants(of id: Int64) -> PostgresQuery {
        """
        WITH RECURSIVE chain(id) AS (
            SELECT \(id)::bigint
          UNION
            SELECT d.id FROM porter.jobs d JOIN chain c ON d.depends_on @> ARRAY[c.id]
            WHERE d.status = 'canceled' AND starts_with(d.error, format('canceled: job %s (', c.id))
        )
        UPDATE porter.jobs AS j SET status = 'deferred', ended_at = NULL
        FROM chain WHERE j.id = chain.id AND j.id <> \(id)
        RETURNING j.id
        """
    }

    /// Cancels a waiting job at once, or asks the worker running it to stop (`porter cancel`).
    /// Returns the job's status afterwards; `started` means the worker was asked.
    static func cancel(id: Int64) -> PostgresQuery {
        """
        UPDATE porter.jobs
        SET status = CASE WHEN status = 'started' THEN status ELSE 'canceled' END,
            ended_at = CASE WHEN status = 'started' THEN ended_at ELSE now() END,
            error = CASE WHEN status = 'started' THEN error ELSE 'canceled' END,
            cancel_requested_at = CASE WHEN status = 'started' THEN now() END
        WHERE id = \(id) AND status IN ('queued', 'scheduled', 'started', 'deferred')
        RETURNING status
        """
    }

    /// Wakes the worker running a job `porter cancel` asked to stop.
    static func notifyCancel(id: Int64) -> PostgresQuery {
        "SELECT pg_notify('porter_cancel', \(String(id)))"
    }
}
