import PorterPostgres

/// How one run of a job ended, before it is written back.
enum JobOutcome: Sendable {
    /// The handler returned; its result, if any, is stored.
    case finished(result: PostgresJSON?)
    /// The run failed. `retryable` is false for failures another attempt cannot fix (unknown
    /// method, a schema not allowed, arguments that do not decode).
    case failed(error: String, retryable: Bool)
    /// `porter cancel` stopped it.
    case canceled
    /// The worker is shutting down: the job goes back in the queue untouched.
    case requeue
    /// Nothing to write: an sql: job or `JobContext.finish` already wrote the completion in
    /// its own transaction, or the job is no longer this worker's.
    case alreadyCompleted
}
