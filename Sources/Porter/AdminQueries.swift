import PorterPostgres

/// The statements behind the admin commands on jobs (`porter retry`, `porter cancel`).
/// Built-ins, and the array operator whose built-in is polymorphic, are named with
/// `pg_catalog.`, as in `JobRunQueries`.
enum AdminQueries {
    /// Locks a job `porter retry` is about to requeue; served by jobs_pkey.
    static func lockForRetry(id: Int64) -> PQQuery {
        "SELECT status, depends_on FROM porter.jobs WHERE id = \(id) FOR UPDATE"
    }

    /// The parents of a job that have not finished, locked so none ends unseen before the
    /// retry commits (as an enqueue with depends_on locks them). A pruned parent had finished.
    /// Served by jobs_pkey.
    static func unfinishedParents(_ ids: [Int64]) -> PQQuery {
        """
        SELECT id, method, status FROM porter.jobs
        WHERE id = ANY(\(ids)::bigint[]) AND status <> 'finished' ORDER BY id FOR SHARE
        """
    }

    /// Requeues a failed or canceled job with fresh attempts (`porter retry`), or defers it
    /// while its parents run. Returns its queue.
    static func retry(id: Int64, waitForParents: Bool) -> PQQuery {
        """
        UPDATE porter.jobs SET status = \(waitForParents ? "deferred" : "queued"), run_at = pg_catalog.now(), ended_at = NULL,
            started_at = NULL, attempts = 0, orphaned = 0, worker_id = NULL, cancel_requested_at = NULL
        WHERE id = \(id)
        RETURNING queue
        """
    }

    /// Brings back as `deferred` the dependants canceled because job `id` ended badly, and in
    /// cascade theirs: each such cancel names its parent (porter.dependency_error). The walk
    /// starts at the job itself, which it leaves as the retry set it. Reads the canceled jobs
    /// with depends_on without an index: a rare admin command.
    static func reviveDependants(of id: Int64) -> PQQuery {
        """
        WITH RECURSIVE chain(id) AS (
            SELECT \(id)::bigint
          UNION
            SELECT d.id FROM porter.jobs d JOIN chain c ON d.depends_on OPERATOR(pg_catalog.@>) ARRAY[c.id]
            WHERE d.status = 'canceled' AND pg_catalog.starts_with(d.error, pg_catalog.format('canceled: job %s (', c.id))
        )
        UPDATE porter.jobs AS j SET status = 'deferred', ended_at = NULL
        FROM chain WHERE j.id = chain.id AND j.id <> \(id)
        RETURNING j.id
        """
    }

    /// Cancels a waiting job at once, or asks the worker running a started one to stop it
    /// (`porter cancel`). Returns the job's status afterwards; `started` means the worker was
    /// asked. Served by jobs_pkey. SKIP LOCKED: a row locked by someone else (a running sql:
    /// job's own transaction, an enqueue locking its parents) gives no row back at once
    /// instead of a wait for that transaction to end; see `PorterClient.cancel`.
    static func cancel(id: Int64) -> PQQuery {
        """
        WITH target AS (
            SELECT id FROM porter.jobs
            WHERE id = \(id) AND status IN ('queued', 'scheduled', 'started', 'deferred')
            FOR UPDATE SKIP LOCKED
        )
        UPDATE porter.jobs AS j
        SET status = CASE WHEN j.status = 'started' THEN j.status ELSE 'canceled' END,
            ended_at = CASE WHEN j.status = 'started' THEN j.ended_at ELSE pg_catalog.now() END,
            error = CASE WHEN j.status = 'started' THEN j.error ELSE 'canceled' END,
            cancel_requested_at = CASE WHEN j.status = 'started' THEN pg_catalog.now() END
        FROM target WHERE j.id = target.id
        RETURNING j.status
        """
    }

    /// A job's status, read without a lock; served by jobs_pkey.
    static func status(id: Int64) -> PQQuery {
        "SELECT status FROM porter.jobs WHERE id = \(id)"
    }

    /// Wakes the worker running a job `porter cancel` asked to stop.
    static func notifyCancel(id: Int64) -> PQQuery {
        "SELECT pg_catalog.pg_notify('porter_cancel', \(String(id)))"
    }

    /// Wakes the workers of a queue a retried job went back to, as an enqueue does.
    static func notifyEnqueued(queue: String) -> PQQuery {
        "SELECT pg_catalog.pg_notify('porter_enqueue', \(queue))"
    }
}
