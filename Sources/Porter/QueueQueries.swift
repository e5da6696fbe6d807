import PorterPostgres

/// The statements on queues as a whole: pausing and resuming them, and the figures of
/// `porter stats` and the queue gauges.
enum QueueQueries {
    /// Pauses a queue (porter.pause_queue, migration 0016); true when it was not paused yet.
    /// Served by paused_queues_pkey.
    static func pause(_ queue: String) -> PQQuery {
        "SELECT porter.pause_queue(\(queue))"
    }

    /// Resumes a queue and wakes its workers (porter.resume_queue); true when it was paused.
    /// Served by paused_queues_pkey.
    static func resume(_ queue: String) -> PQQuery {
        "SELECT porter.resume_queue(\(queue))"
    }

    /// Every queue's figures, and the live workers' slots (porter.stats(), migration 0016):
    /// one pass over jobs_claim_idx, probes of the other partial indexes, and porter.workers.
    /// Takes no lock.
    static let stats: PQQuery = "SELECT porter.stats()"

    /// Per queue of `queues` with jobs that may run now: how many, and the seconds the oldest
    /// has waited. One pass over each queue's part of jobs_claim_idx; takes no lock.
    static func depth(queues: [String]) -> PQQuery {
        """
        SELECT queue, count(*), coalesce(extract(epoch FROM now() - min(run_at)), 0)::float8
        FROM porter.jobs
        WHERE queue = ANY(\(queues)::text[]) AND status IN \(unsafeRaw: JobStatus.sqlList(JobStatus.claimable)) AND run_at <= now()
        GROUP BY queue
        """
    }
}
