import Foundation
import PorterPostgres

/// The statements behind the admin commands on jobs (`porter retry`, `porter cancel`,
/// `porter delete`), one job or in bulk. Built-ins are named with `pg_catalog.`, as in
/// `JobRunQueries`.
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

    /// Requeues failed or canceled jobs with fresh attempts, as deferred while a parent runs,
    /// and brings back the dependants their failure canceled (porter.requeue_jobs, migration
    /// 0017: the one definition of a retry). Returns how many it requeued. Served by
    /// jobs_pkey and jobs_depends_on_idx; locks the jobs and their unfinished parents.
    static func requeue(ids: [Int64]) -> PQQuery {
        "SELECT porter.requeue_jobs(\(ids)::bigint[])"
    }

    /// The database's clock: where a bulk action's batches stop, so that what they change
    /// (a retried job that fails again) is not picked again.
    static let now: PQQuery = "SELECT pg_catalog.now()"

    /// Retries one batch of failed (or canceled) jobs (porter.retry_jobs); returns how many.
    /// Served by jobs_failed_queue_idx or jobs_ended_at_idx; FOR UPDATE SKIP LOCKED.
    static func retryJobs(_ selection: JobSelection, before: Date, batchSize: Int) -> PQQuery {
        """
        SELECT porter.retry_jobs(queue => \(selection.queue), method => \(selection.method), \
        since => \(selection.since)::timestamptz, before => \(before)::timestamptz, \
        status => \(selection.status.rawValue), max_jobs => \(batchSize))
        """
    }

    /// Cancels one batch of waiting jobs (porter.cancel_jobs); returns how many. Served by
    /// jobs_claim_idx or jobs_deferred_idx; FOR UPDATE SKIP LOCKED.
    static func cancelJobs(_ selection: JobSelection, before: Date, batchSize: Int) -> PQQuery {
        """
        SELECT porter.cancel_jobs(queue => \(selection.queue), method => \(selection.method), \
        before => \(before)::timestamptz, status => \(selection.status.rawValue), max_jobs => \(batchSize))
        """
    }

    /// Deletes one batch of old ended jobs (porter.delete_jobs); returns how many. Served by
    /// jobs_failed_queue_idx or jobs_ended_at_idx; FOR UPDATE SKIP LOCKED.
    static func deleteJobs(_ selection: JobSelection, olderThan: Duration, batchSize: Int) -> PQQuery {
        """
        SELECT porter.delete_jobs(older_than => pg_catalog.make_interval(secs => \(olderThan.seconds)), \
        queue => \(selection.queue), method => \(selection.method), \
        status => \(selection.status.rawValue), max_jobs => \(batchSize))
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
            WHERE id = \(id) AND status IN \(unsafeRaw: JobStatus.sqlList(JobStatus.active))
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
        "SELECT pg_catalog.pg_notify(\(PorterChannel.cancel), \(String(id)))"
    }
}
