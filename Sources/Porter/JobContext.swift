import Logging
import PorterPostgres

/// What a running job's handler gets besides its arguments.
public struct JobContext: Sendable {
    /// The job's `porter.jobs.id`; `nil` when it runs inline (`now`) and has no row.
    public var id: Int64?
    /// The method being run.
    public var method: String
    /// 1 for the first attempt.
    public var attempt: Int
    /// A logger carrying `porter.job.id`, `porter.job.method` and `porter.queue` metadata.
    public var logger: Logger
    /// Porter's pool, so a handler can commit its work in chunks.
    public var pool: PostgresPool

    public init(id: Int64?, method: String, queue: String, attempt: Int, logger: Logger, pool: PostgresPool) {
        self.id = id
        self.method = method
        self.attempt = attempt
        self.pool = pool
        var logger = logger
        logger[metadataKey: "porter.job.method"] = "\(method)"
        logger[metadataKey: "porter.queue"] = "\(queue)"
        if let id { logger[metadataKey: "porter.job.id"] = "\(id)" }
        self.logger = logger
    }
}
