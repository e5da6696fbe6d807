import Foundation

/// The jobs a bulk action works on (`PorterClient.retryJobs`, `cancelJobs`, `deleteJobs`;
/// `porter retry --failed`, `porter cancel --queued`, `porter delete --failed`): one status,
/// optionally one queue and one method.
public struct JobSelection: Sendable, Hashable {
    /// The status of the jobs to act on. A retry takes failed or canceled jobs, a cancel queued,
    /// scheduled or deferred ones, a delete failed, canceled or finished ones.
    public var status: JobStatus
    /// Only this queue's jobs; nil for every queue.
    public var queue: String?
    /// Only jobs of this method; nil for every method.
    public var method: String?
    /// For a retry: only jobs that ended at or after this time; nil for any time.
    public var since: Date?

    /// The jobs of `status`, narrowed to a queue, a method or an end time when given.
    public init(status: JobStatus, queue: String? = nil, method: String? = nil, since: Date? = nil) {
        self.status = status
        self.queue = queue
        self.method = method
        self.since = since
    }
}
