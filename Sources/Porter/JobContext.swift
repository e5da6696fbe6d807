import Foundation
import Logging
import PorterPostgres
import Synchronization
import Tracing

/// What a running job's handler gets besides its arguments.
public struct JobContext: Sendable {
    /// The job's `porter.jobs.id`; `nil` when it runs inline (`now`) and has no row.
    public var id: Int64?
    /// The method being run.
    public var method: String
    /// 1 for the first attempt.
    public var attempt: Int
    /// A logger carrying `porter.job.id`, `porter.job.method` and `porter.queue` metadata.
    /// Made on first use: each metadata key set on a logger makes swift-log's stream handler
    /// re-render all of them, which cost a busy worker an eighth of its CPU for jobs that
    /// never log.
    public var logger: Logger {
        get { jobLogger.logger }
        set { jobLogger = JobLogger(made: newValue) }
    }
    private var jobLogger: JobLogger
    /// Porter's pool, so a handler can commit its work in chunks.
    public var pool: PQPool
    /// Set by a worker: the attempt this context belongs to, which `finish` ends in its own
    /// transaction and whose `started` event the context's events wait for.
    var workerAttempt: JobAttempt?
    /// The handlers of the process running the job, for `porter`.
    var registry = JobRegistry()
    /// The queues of the worker or client running the job, for `porter`'s `now` runs.
    var queues = QueueConfiguration.builtIn
    /// The worker's tracer, for `porter`'s enqueues: `nil`, the process's.
    var tracer: (any Tracer)?

    /// A client on the job's pool, to enqueue follow-up jobs, e.g. inside `finish`:
    /// `try await context.porter.enqueue(Report(), on: transaction)`. It has the handlers and
    /// queues of the process running the job.
    public var porter: PorterClient {
        PorterClient(pool: pool, registry: registry, queues: queues, logger: logger, tracer: tracer)
    }

    /// A context for running a handler outside a worker (a test, a tool): `id` is the job's row
    /// (`nil` when there is none, as in `now` runs), and `pool` is where it reads and writes.
    public init(id: Int64?, method: String, queue: String, attempt: Int, logger: Logger, pool: PQPool) {
        self.id = id
        self.method = method
        self.attempt = attempt
        self.pool = pool
        self.jobLogger = JobLogger(base: logger, job: (id, method, queue))
    }
}

/// A job's logger, made from the worker's logger and the job's metadata when first asked for:
/// most handlers never log, and the metadata dictionary cost a worker about 1 µs a job.
private final class JobLogger: Sendable {
    private let base: Logger
    /// The job the metadata names: id (nil in `now` runs), method and queue.
    private let job: (id: Int64?, method: String, queue: String)?
    /// The logger once made; a Mutex, not a lock object, so that a job that never logs
    /// allocates nothing for it.
    private let made: Mutex<Logger?>

    init(base: Logger, job: (id: Int64?, method: String, queue: String)) {
        self.base = base
        self.job = job
        self.made = Mutex(nil)
    }

    init(made: Logger) {
        self.base = made
        self.job = nil
        self.made = Mutex(made)
    }

    var logger: Logger {
        made.withLock { made in
            if let made { return made }
            var logger = base
            if let job {
                var metadata: Logger.Metadata = ["porter.job.method": "\(job.method)", "porter.queue": "\(job.queue)"]
                if let id = job.id { metadata["porter.job.id"] = "\(id)" }
                // One assignment of the merged metadata: the handler renders it once.
                logger.handler.metadata.merge(metadata) { _, new in new }
            }
            made = logger
            return logger
        }
    }
}

extension JobContext {
    /// Runs `body` in a transaction that also marks this job `finished`, so the job's last
    /// effects (the rows it writes, the follow-up jobs it enqueues on the connection) and its
    /// status commit together or not at all. If the transaction rolls back, none of them
    /// happened and the job fails or is retried as usual.
    ///
    /// ```swift
    /// try await context.finish { transaction in
    ///     try transaction.query("UPDATE app.runs SET done = true WHERE id = \(runID)")
    ///     try await porter.enqueue(WriteReport(runID: runID), options: .init(queue: "short"), on: transaction)
    /// }
    /// ```
    ///
    /// Call it last: once it returns, the job is finished and whatever the handler does or
    /// returns afterwards is not recorded. Inline (`now`) jobs have no row; the body simply
    /// runs in a transaction.
    public func finish(_ body: @Sendable (isolated PQConnection) async throws -> Void) async throws {
        try await finish { connection -> NoResult in
            try await body(connection)
            return NoResult()
        }
    }

    /// `finish` for a job with a result, stored in `porter.jobs.result` as JSON.
    public func finish<R: Encodable & Sendable>(_ body: @Sendable (isolated PQConnection) async throws -> R) async throws {
        let attempt = workerAttempt
        // This transaction sends the job's end event; its start event must be out first.
        await attempt?.waitForStartedEvent()
        try await pool.withTransaction { connection in
            let result = try NoResult.encode(try await body(connection))
            guard let attempt else { return }
            guard try attempt.write(JobTransition(status: .finished, result: result), on: connection) else {
                throw PorterError(
                    code: .invalidState,
                    message: "job \(attempt.job.id) is no longer held by this attempt (already ended, rescued or canceled); the transaction was rolled back")
            }
        }
        attempt?.endedInItsOwnTransaction()
    }
}
