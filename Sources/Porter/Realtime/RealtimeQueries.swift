import PorterPostgres

/// The SQL behind realtime events, in one place.
enum RealtimeQueries {
    /// Publishes an event at commit; served by no index (a NOTIFY).
    static func publish(event: String, message: PQJSON, job: Int64?) -> PQQuery {
        "SELECT porter.publish_realtime(\(event), \(message)::jsonb, \(job)::bigint)"
    }

    /// Stores a job's progress and publishes it; served by jobs_pkey.
    static func publishProgress(job: Int64, percent: Double, title: String?, description: String?) -> PQQuery {
        "SELECT porter.publish_job_progress(\(job), \(percent)::numeric, \(title), \(description))"
    }

    /// Stores and publishes progress an sql: job reported from inside its transaction (see
    /// `ProgressRelay`); served by jobs_pkey.
    static func relayProgress(job: Int64, progress: PQJSON) -> PQQuery {
        """
        SELECT porter.publish_job_progress(\(job), (p->>'percent')::numeric, p->>'title', p->>'description')
        FROM (SELECT \(progress)::jsonb AS p) AS relayed
        """
    }

    /// A stored oversize message; served by realtime_messages_pkey.
    static func storedMessage(id: Int64) -> PQQuery {
        "SELECT message FROM porter.realtime_messages WHERE id = \(id)"
    }

    /// A job's stored progress, re-read after a reconnect; served by jobs_pkey. From
    /// porter.job_states, like the listener's other reads, so that every role Porter grants
    /// (a reader, an enqueuer) may follow jobs.
    static func progress(job: Int64) -> PQQuery {
        "SELECT progress FROM porter.job_states WHERE id = \(job) AND progress IS NOT NULL"
    }

    /// The stored progress of running jobs (or of one job), for a listener who arrives late;
    /// served by jobs_started_worker_idx (or jobs_pkey).
    static func runningProgress(job: Int64?) -> PQQuery {
        """
        SELECT id, progress FROM porter.job_states
        WHERE status = 'started' AND progress IS NOT NULL AND (\(job)::bigint IS NULL OR id = \(job))
        ORDER BY id
        """
    }

    /// Forgets stored oversize messages after a day; served by realtime_messages_created_at_idx.
    static let pruneStoredMessages: PQQuery =
        "DELETE FROM porter.realtime_messages WHERE created_at < pg_catalog.now() - interval '1 day'"
}
