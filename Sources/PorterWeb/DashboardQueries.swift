import Foundation
import PorterPostgres

/// The statements behind the dashboard's pages that Porter's client has no call for. All
/// read-only; none takes a lock. A role that may not read porter.jobs (the reader role of
/// migration 0013) reads porter.job_states instead, which has no args, result or errors, so
/// `--read-only` runs with the reader role's rights.
enum DashboardQueries {
    /// Whether this session may read job rows whole (porter.jobs), or only porter.job_states.
    static let canReadJobRows: PQQuery = "SELECT pg_catalog.has_table_privilege('porter.jobs', 'SELECT')"

    /// One page of jobs, newest first, optionally of one status, queue, method and job_id,
    /// with ids below `before` (keyset paging: each page starts where the last one ended, so
    /// a page deep in a million rows costs what the first one does, never an OFFSET's walk).
    /// One more row than `limit` says whether an older page exists. Planned with the values,
    /// so a status picks its partial index; otherwise a backward walk of jobs_pkey. From
    /// porter.job_states, the error column is NULL.
    static func jobs(
        status: String?, queue: String?, method: String?, jobID: String?, before: Int64?, limit: Int, wholeRows: Bool
    ) -> PQQuery {
        """
        SELECT id, job_id, method, queue, status, attempts, max_attempts, enqueued_at, started_at, ended_at,
               progress, \(unsafeRaw: wholeRows ? "pg_catalog.left(error, 300)" : "NULL::text")
        FROM \(unsafeRaw: wholeRows ? "porter.jobs" : "porter.job_states")
        WHERE (\(status)::text IS NULL OR status = \(status)) AND (\(queue)::text IS NULL OR queue = \(queue))
          AND (\(method)::text IS NULL OR method = \(method)) AND (\(jobID)::text IS NULL OR job_id = \(jobID))
          AND (\(before)::bigint IS NULL OR id < \(before))
        ORDER BY id DESC
        LIMIT \(limit + 1)
        """
    }

    /// One job's status, counts and timings, without args, result or errors: the job page of
    /// a role that may read only porter.job_states. Served by jobs_pkey.
    static func jobState(id: Int64) -> PQQuery {
        """
        SELECT id, job_id, method, queue, status, priority, at_front, attempts, max_attempts, timeout, run_at,
               enqueued_at, started_at, ended_at, progress, orphaned, depends_on
        FROM porter.job_states WHERE id = \(id)
        """
    }

    /// The id, method and status of given jobs (a job's parents); served by jobs_pkey.
    static func summaries(ids: [Int64]) -> PQQuery {
        "SELECT id, method, status FROM porter.job_states WHERE id = ANY(\(ids)::bigint[]) ORDER BY id"
    }

    /// The jobs that depend on a job, at most 200; served by jobs_depends_on_idx.
    static func dependants(of id: Int64) -> PQQuery {
        """
        SELECT id, method, status FROM porter.job_states
        WHERE depends_on OPERATOR(pg_catalog.@>) ARRAY[\(id)]::bigint[] AND depends_on IS NOT NULL
        ORDER BY id LIMIT 200
        """
    }

    /// Every scheduled event with its last and next fire time; a small table, read whole.
    static let schedule: PQQuery = """
        SELECT event, method, queue, last_fire_at, next_fire_at FROM porter.schedule ORDER BY next_fire_at, event, method
        """
}
