import Logging
import PorterPostgres
import Tracing

/// Porter's entry point in a service: enqueue jobs, read them, migrate the schema.
///
/// ```swift
/// let porter = try PorterClient(databaseURL: "postgresql://localhost/app")
/// try await porter.migrate()
/// try await porter.pool.withTransaction { transaction in
///     try transaction.query("INSERT INTO orders (id) VALUES (\(orderID))")
///     try await porter.enqueue(SendConfirmation(orderID: orderID), on: transaction)
/// }
/// ```
public final class PorterClient: Sendable {
    /// The connections Porter uses for its own statements.
    public let pool: PQPool
    /// The handlers this process can run, used by `now` mode (and by workers).
    public let registry: JobRegistry
    /// The queues' settings `now` mode runs a job with, as a worker would: the job's own
    /// timeout, else its queue's, and a queue not listed gets `default`'s. Give it your workers'
    /// `WorkerConfiguration.queues` so inline runs in tests match them. Default: the built-in
    /// `short` 300 s, `default` 300 s and `long` 1500 s.
    public let queues: [String: QueueConfiguration]
    /// Where Porter logs, at info and below; workers and listeners made from this client use it too.
    public let logger: Logger
    /// The tracer of this client's enqueue spans and of the spans of workers made from it.
    /// Default: `nil`, the process's `InstrumentationSystem.tracer` at the time of each enqueue
    /// (and at each worker's start), so an app that bootstraps its tracer after making the
    /// client is traced. With the no-op tracer nothing is traced and nothing is stored.
    public let tracer: (any Tracer)?

    /// A client on an existing pool.
    public init(
        pool: PQPool, registry: JobRegistry = JobRegistry(),
        queues: [String: QueueConfiguration] = QueueConfiguration.builtIn, logger: Logger = Logger(label: "porter"),
        tracer: (any Tracer)? = nil
    ) {
        self.pool = pool
        self.registry = registry
        self.queues = queues
        self.logger = logger
        self.tracer = tracer
    }

    /// The tracer in use now: `tracer`, else the process's.
    var activeTracer: any Tracer { tracer ?? InstrumentationSystem.tracer }

    /// A client with its own pool. An empty URL uses libpq's defaults and `PG*` variables.
    public convenience init(
        databaseURL: String,
        maximumConnections: Int = 10,
        registry: JobRegistry = JobRegistry(),
        queues: [String: QueueConfiguration] = QueueConfiguration.builtIn,
        logger: Logger = Logger(label: "porter"),
        tracer: (any Tracer)? = nil
    ) throws {
        let configuration = try PQConfiguration(databaseURL)
        self.init(
            pool: PQPool(configuration, maximumConnections: maximumConnections, logger: logger),
            registry: registry, queues: queues, logger: logger, tracer: tracer)
    }

    /// Applies missing migrations; safe to call from several processes at once.
    @discardableResult
    public func migrate() async throws -> [Migration] {
        let migrator = Migrator(logger: logger)
        return try await pool.withConnection { try await migrator.migrate(on: $0) }
    }

    /// Whether the database has every migration this build embeds, as a worker requires at
    /// start (`porter migrate` brings it there). Throws when the database cannot be reached.
    public func isSchemaCurrent() async throws -> Bool {
        do {
            return try await pool.query(MigrationQueries.latestApplied).single(Int.self) >= (Migration.all.last?.version ?? 0)
        } catch let error as PQError where error.sqlState == .undefinedTable || error.sqlState == SQLState("3F000") {
            return false
        }
    }

    /// Whether this client's connections log in as a superuser. A worker that does runs every
    /// `sql:` function and every handler's statement with every right; `porter.grant_worker`
    /// gives a role just what a worker needs. Throws when the database cannot be reached.
    public func connectsAsSuperuser() async throws -> Bool {
        try await pool.query(WorkerQueries.sessionIsSuperuser).singleOptional(Bool.self) ?? false
    }

    /// One job by id, or `nil`.
    public func job(id: Int64) async throws -> JobRecord? {
        do {
            return try await pool.query(JobQueries.get(id: id)).first.map(JobRecord.init(row:))
        } catch {
            throw PorterError.schemaMissing(error)
        }
    }

    /// One job's status, or `nil` when no job has this id. Read from `porter.job_states`, so
    /// every role Porter grants may call it: a reader or an enqueuer as well as a worker.
    /// The row is the truth about a job; a realtime event about it is a hint.
    public func jobStatus(id: Int64) async throws -> JobStatus? {
        try await pool.query(JobQueries.status(id: id)).singleOptional(String.self).flatMap(JobStatus.init(rawValue:))
    }

    /// The newest jobs, optionally filtered by status and queue.
    public func jobs(status: JobStatus? = nil, queue: String? = nil, limit: Int = 100) async throws -> [JobRecord] {
        do {
            return try await pool.query(JobQueries.list(status: status, queue: queue, limit: limit)).map(JobRecord.init(row:))
        } catch {
            throw PorterError.schemaMissing(error)
        }
    }

    /// The worker processes registered in `porter.workers`, alive or not yet removed.
    public func workers() async throws -> [WorkerRecord] {
        do {
            return try await pool.query(WorkerQueries.list).map(WorkerRecord.init(row:))
        } catch let error as PQError {
            throw PorterError.schemaMissing(error)
        }
    }

    /// Closes the pool.
    public func close() async {
        await pool.close()
    }
}
