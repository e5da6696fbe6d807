import Foundation
import PorterPostgres

/// A row of `porter.jobs`.
public struct JobRecord: Sendable, Hashable {
    /// The job's id, `porter.jobs.id`.
    public var id: Int64
    /// The caller's key naming the work (`job_id`), for deduplication; `nil` for most jobs.
    public var jobID: String?
    /// The method a worker dispatches on: a registered Swift job, or `sql:schema.function`.
    public var method: String
    /// The queue it waits in: `short`, `default`, `long` or one of your own.
    public var queue: String
    /// The arguments as enqueued; `decodeArgs(as:)` reads them as the worker does.
    public var args: PQJSON
    /// Where the job stands: queued, scheduled, deferred, started, finished, failed or canceled.
    public var status: JobStatus
    /// Lower runs first; 0 unless enqueued with another.
    public var priority: Int
    /// Whether it runs ahead of every job not at the front, whatever their priority.
    public var atFront: Bool
    /// The attempts started so far, the current one included.
    public var attempts: Int
    /// `nil`: the queue's configured maximum.
    public var maxAttempts: Int?
    /// Seconds; `nil`: the queue's timeout.
    public var timeout: Int?
    /// When it may run, at the earliest.
    public var runAt: Date
    /// When it was enqueued.
    public var enqueuedAt: Date
    /// When its current or last attempt started; `nil` before the first.
    public var startedAt: Date?
    /// When it finished, failed or was canceled; `nil` while it has not ended.
    public var endedAt: Date?
    /// Its last published progress, `{"percent", "title", "description"}`; `nil` before any.
    public var progress: PQJSON?
    /// The handler's result; `result?.decode(R.self)` reads it as it was returned.
    public var result: PQJSON?
    /// The last attempt's error; `errors` keeps every attempt's.
    public var error: String?
    /// Every attempt's error, oldest first, as a JSON array.
    public var errors: PQJSON
    /// How many times the job was rescued from a worker that died while running it.
    public var orphaned: Int
    /// The jobs this one waits for (`depends_on`); empty for most jobs.
    public var dependsOn: [Int64]
    /// The W3C `traceparent` of the enqueue, which each attempt's span links to (or is a child
    /// of); `nil` when the job was enqueued without a trace.
    public var traceparent: String?

    /// The columns `init(row:)` reads, in order.
    static let columns = """
        id, job_id, method, queue, args, status, priority, at_front, attempts, max_attempts, timeout,
        run_at, enqueued_at, started_at, ended_at, progress, result, error, errors, depends_on, orphaned,
        traceparent
        """

    init(row: PQRow) throws {
        id = try row.decode(Int64.self, column: "id")
        jobID = try row.decode(String?.self, column: "job_id")
        method = try row.decode(String.self, column: "method")
        queue = try row.decode(String.self, column: "queue")
        args = try row.decode(PQJSON.self, column: "args")
        let statusText = try row.decode(String.self, column: "status")
        guard let status = JobStatus(rawValue: statusText) else {
            throw PQError(code: .decoding, message: "unknown job status \(statusText)")
        }
        self.status = status
        priority = try row.decode(Int.self, column: "priority")
        atFront = try row.decode(Bool.self, column: "at_front")
        attempts = try row.decode(Int.self, column: "attempts")
        maxAttempts = try row.decode(Int?.self, column: "max_attempts")
        timeout = try row.decode(Int?.self, column: "timeout")
        runAt = try row.decode(Date.self, column: "run_at")
        enqueuedAt = try row.decode(Date.self, column: "enqueued_at")
        startedAt = try row.decode(Date?.self, column: "started_at")
        endedAt = try row.decode(Date?.self, column: "ended_at")
        progress = try row.decode(PQJSON?.self, column: "progress")
        result = try row.decode(PQJSON?.self, column: "result")
        error = try row.decode(String?.self, column: "error")
        errors = try row.decode(PQJSON.self, column: "errors")
        dependsOn = try row.decode([Int64]?.self, column: "depends_on") ?? []
        orphaned = try row.decode(Int.self, column: "orphaned")
        traceparent = try row.decode(String?.self, column: "traceparent")
    }

    /// Decodes the arguments into a job type, with the decoder the worker uses.
    public func decodeArgs<J: Job>(as type: J.Type = J.self) throws -> J {
        try args.decode(type)
    }
}
