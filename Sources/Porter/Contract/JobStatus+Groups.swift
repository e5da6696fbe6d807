extension JobStatus {
    /// Queued, scheduled, started or deferred: a job not yet ended. An active job's `job_id`
    /// blocks a duplicate (index `jobs_job_id_active_key`), except a debounced job once it has
    /// started: the next enqueue of its `job_id` makes a new job.
    public static let active: [JobStatus] = [.queued, .scheduled, .started, .deferred]

    /// Finished, failed or canceled: a job whose last attempt is over. An ended job has
    /// `ended_at` (constraint `jobs_ended_at_when_ended`), and pruning deletes it after its
    /// retention.
    public static let ended: [JobStatus] = [.finished, .failed, .canceled]

    /// Queued or scheduled: a job a worker may claim once its `run_at` has come (index
    /// `jobs_claim_idx`).
    public static let claimable: [JobStatus] = [.queued, .scheduled]

    /// Whether the job's last attempt is over: finished, failed or canceled.
    public var isEnded: Bool { Self.ended.contains(self) }

    /// `statuses` as an SQL list literal, `('queued', 'scheduled')`, for a statement's text.
    /// The words are constants, so writing them into the text is safe, and it lets the planner
    /// match the statement to a partial index whose predicate names the same list.
    static func sqlList(_ statuses: [JobStatus]) -> String {
        "(" + statuses.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"
    }
}
