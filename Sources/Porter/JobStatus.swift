/// A job's state, in Frappe's words.
public enum JobStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Waiting for a worker.
    case queued
    /// Waiting for its `run_at` (a delayed job, or a retry after backoff).
    case scheduled
    /// A worker is running it.
    case started
    /// It ran and succeeded.
    case finished
    /// It failed and will not be retried.
    case failed
    /// It was canceled before it finished.
    case canceled

    /// Queued, scheduled or started: the states in which a `job_id` blocks a duplicate.
    public var isActive: Bool {
        self == .queued || self == .scheduled || self == .started
    }
}
