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
    /// Waiting for the jobs it depends on (`depends_on`) to finish; RQ's word for it.
    case deferred

    /// Queued, scheduled, started or deferred: the states in which a `job_id` blocks a duplicate.
    public var isActive: Bool { Self.active.contains(self) }
}
