import Foundation
import Logging
import PorterPostgres
import ServiceLifecycle
import Tracing

/// A worker process's runtime: claims jobs of its queues with `FOR UPDATE SKIP LOCKED`, runs
/// them with their timeouts, records outcomes in batches, retries with backoff, rescues the
/// jobs of dead workers, prunes old jobs, and shuts down gracefully.
///
/// It is a swift-service-lifecycle `Service`, so an app runs it in its `ServiceGroup`:
///
/// ```swift
/// let worker = Worker(client: porter, configuration: try .load(path: "porter.json"))
/// let group = ServiceGroup(services: [worker], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
public struct Worker: Service {
    /// This process's worker id, as stored in `porter.workers` and `porter.jobs.worker_id`.
    public let id: String
    /// Its settings: queues and slots, intervals, retention, retries.
    public let configuration: WorkerConfiguration
    /// The queues this worker serves.
    public let queues: [String]
    private let client: PorterClient
    private let logger: Logger
    /// Whether the database answers, shared by every loop so that an outage is logged once.
    private let outage: DatabaseOutage
    /// Whether this worker has reached the database long enough to judge others dead.
    private let contact = DatabaseContact()

    /// A worker for `queues`, or for every configured queue when `nil`.
    public init(
        client: PorterClient, configuration: WorkerConfiguration = WorkerConfiguration(), queues: [String]? = nil,
        logger: Logger? = nil
    ) {
        self.client = client
        self.configuration = configuration
        self.queues = queues ?? configuration.queues.keys.sorted()
        let host = ProcessInfo.processInfo.hostName
        self.id = "\(host):\(getpid()):\(UInt32.random(in: 0...UInt32.max))"
        var logger = logger ?? client.logger
        logger[metadataKey: "porter.worker"] = "\(id)"
        self.logger = logger
        self.outage = DatabaseOutage(logger: logger)
    }

    /// Runs until graceful shutdown (finish what it holds, within `shutdownGrace`, and take
    /// no more) or cancellation (stop now, jobs back in the queue). Throws only at start-up:
    /// a Porter schema older than this build, or none (`PorterError.Code.schemaMissing`).
    /// While the database cannot be reached it waits and retries, logging one warning.
    public func run() async throws {
        let pool = client.pool
        // Maintenance gets a connection of its own, and the heartbeat and the rescue probe the
        // worker's own session (WorkerSession): on the shared pool, jobs holding every
        // connection (long sql: jobs) would delay the heartbeat until a rescuer took this live
        // worker for dead, and so would a long vacuum or prune on a connection shared with it.
        let upkeep = PQPool(pool.configuration, maximumConnections: 1, logger: logger)
        let coverage = HandlerCoverage(registry: client.registry, sqlSchemas: configuration.sqlSchemas, sqlFunctions: configuration.sqlFunctions)
        let slots = Dictionary(queues.map { ($0, configuration.queue($0).backgroundWorkers) }, uniquingKeysWith: +)
        let statistics = WorkerStatistics(slots: slots)
        let registration = WorkerSession.Registration(
            id: id, queues: queues, methods: coverage.names,
            report: { [configuration] in Self.report(statistics.report(), configuration: configuration) })
        let session = WorkerSession(
            registration: registration, connection: pool.configuration, configuration: configuration, contact: contact,
            outage: outage, logger: logger)
        let fence = WorkerFence(fenceAfter: configuration.fenceAfter, logger: logger)
        do {
            try await checkSchema(upkeep)
            try await checkSearchPath(upkeep)
            try await untilDatabaseAnswers("register the worker") { try await session.open(fence: fence) }
        } catch {
            await upkeep.close()
            throw error
        }
        logger.info("worker started", metadata: ["porter.queues": "\(queues.joined(separator: ","))"])
        for (queue, count) in slots { QueueMetrics.of(queue).slots.record(count) }
        let statements = StatementPreparation(prepared: configuration.preparedStatements)
        let owned = OwnedAttempts()
        let completer = JobCompleter(
            pool: pool, workerID: id, configuration: configuration, statistics: statistics, statements: statements,
            owned: owned, logger: logger)
        let running = RunningAttempts()
        let deadlines = JobDeadlines()
        let foreign = ForeignJobs(coverage: coverage, workerID: id, pool: pool, configuration: configuration, logger: logger)
        // sql: jobs' progress is relayed on a connection no job holds (opened on first use).
        let relayPool = PQPool(pool.configuration, maximumConnections: 1, logger: logger)
        var executor = JobExecutor(
            registry: client.registry, pool: pool, relayPool: relayPool, configuration: configuration,
            deadlines: deadlines, logger: logger)
        // The tracer as it is at the worker's start: the client's, else the process's.
        let tracer = client.activeTracer
        if !(tracer is NoOpTracer) {
            executor.tracing = AttemptTracing(tracer: tracer, parenting: configuration.traceParenting)
        }
        // A claim of up to 100 jobs is one statement; a queue with more slots than that gets
        // one claimer per 100 slots (at most 4), claiming in parallel and sharing its slots.
        let runtime = WorkerRuntime(
            workerID: id, configuration: configuration, pool: pool, statements: statements, executor: executor,
            completer: completer, running: running, owned: owned, fence: fence, foreign: foreign, outage: outage,
            statistics: statistics, logger: logger)
        let claimers = queues.flatMap { queue in
            let slots = configuration.queue(queue).backgroundWorkers
            let count = min(4, max(1, slots / 100))
            return (0..<count).map { index in
                QueueClaimer(queue: queue, capacity: slots / count + (index < slots % count ? 1 : 0), runtime: runtime)
            }
        }
        let byQueue = Dictionary(grouping: claimers, by: \.queue)

        await withGracefulShutdownHandler {
            await withTaskGroup(of: BackgroundTask.self) { background in
                background.addTask {
                    await completer.run()
                    return .completer
                }
                background.addTask {
                    await deadlines.run()
                    return .other
                }
                background.addTask {
                    await session.run(running: running, owned: owned, fence: fence)
                    return .other
                }
                background.addTask {
                    await fence.run(running: running) { for claimer in claimers { claimer.wake() } }
                    return .other
                }
                background.addTask {
                    await MaintenanceLoop(
                        pool: upkeep, queues: queues, runtime: runtime, contact: contact, claimers: byQueue
                    ).run()
                    return .other
                }
                background.addTask {
                    // Prepared statements met a shared server session: stop now, as if cancelled.
                    guard let stop = await statements.stopRequested() else { return .other }
                    logger.error("stopping the worker", metadata: ["error": "\(stop)"])
                    completer.shutdownBegan()
                    for claimer in claimers { claimer.shutdown() }
                    running.stopAll(.shutdown)
                    return .other
                }
                if !configuration.pollOnly {
                    background.addTask {
                        await WakeListener(
                            connection: pool.configuration, claimers: byQueue, running: running, logger: logger
                        ).run()
                        return .other
                    }
                }
                await withTaskCancellationHandler {
                    await withDiscardingTaskGroup { group in
                        for claimer in claimers { group.addTask { await claimer.run() } }
                    }
                } onCancel: {
                    // Cancelled outright rather than shut down: stop running jobs now.
                    completer.shutdownBegan()
                    for claimer in claimers { claimer.shutdown() }
                    running.stopAll(.shutdown)
                }
                // Every claimer has wound down; write the last outcomes, then stop the rest.
                // The completer gives up at its shutdown deadline; should a statement of its
                // hang past that (behind a lock, on a dead link), cancelling it stops it.
                completer.finish()
                background.addTask {
                    await completer.shutdownDeadline()
                    try? await Task.sleep(for: .seconds(1))
                    return .completerOverdue
                }
                while let ended = await background.next() {
                    if ended == .completer { break }
                    if ended == .completerOverdue {
                        logger.error("the completer did not end by the shutdown deadline; stopping it")
                        break
                    }
                }
                background.cancelAll()
            }
        } onGracefulShutdown: {
            completer.shutdownBegan()
            for claimer in claimers { claimer.shutdown() }
        }
        // Last, so that the session lock is held until every outcome is written.
        await session.close()
        await upkeep.close()
        await relayPool.close()
        logger.info("worker stopped")
        if let stop = statements.stopError { throw stop }
    }

    /// What ended among the worker's background tasks.
    private enum BackgroundTask: Sendable {
        case completer
        case completerOverdue
        case other
    }

    /// Refuses a database whose Porter schema is older than this build's, or that applied
    /// another text of a released migration: its claims, completions and triggers would not
    /// match.
    private func checkSchema(_ pool: PQPool) async throws {
        let recorded = try await untilDatabaseAnswers("check the schema") {
            try await pool.query(MigrationQueries.listApplied).reduce(into: [Int: String]()) { recorded, row in
                let (version, checksum) = try row.decode((Int, String).self)
                recorded[version] = checksum
            }
        }
        let applied = recorded.keys.max() ?? 0
        let needed = Migration.all.last?.version ?? 0
        guard applied >= needed else {
            throw PorterError(
                code: .schemaMissing,
                message: "this database's Porter schema is at migration \(applied) and this worker needs \(needed); run `porter migrate`, start the worker with --migrate, or call PorterClient.migrate()")
        }
        if let error = Migrator.changedMigration(in: recorded) { throw error }
    }

    /// Refuses a search_path that puts a schema before pg_catalog. PostgreSQL searches
    /// pg_catalog first unless the path names it later, as `ALTER DATABASE ... SET search_path
    /// = app, pg_catalog` does (the database's owner may). Then an operator or a function that
    /// a role created in `app` beside a built-in wins over it in the worker's own statements,
    /// and runs with the worker's rights. Porter's functions pin their own search_path; this
    /// protects the statements the worker sends. The session's own temporary schema is
    /// searched first for tables only and is this session's alone.
    private func checkSearchPath(_ pool: PQPool) async throws {
        let schemas = try await pool.query(WorkerQueries.searchedSchemas).single([String].self)
        guard let first = schemas.first(where: { !$0.hasPrefix("pg_temp_") }), first != "pg_catalog" else { return }
        throw PorterError(
            code: .unsafeSearchPath,
            message: "this worker's search_path puts schema \(first) before pg_catalog, so a role that can create objects in \(first) could run code as the worker; name pg_catalog first or leave it out (PostgreSQL then searches it first), e.g. ALTER ROLE \"<worker role>\" SET search_path = pg_catalog, public, or remove the database's setting (SHOW search_path shows it)")
    }

    /// What a worker reports in porter.workers.stats for porter.stats() and `porter workers`.
    static func report(_ queues: [String: WorkerStatistics.QueueReport], configuration: WorkerConfiguration) -> PQJSON {
        let report = WorkerStatistics.Report(rescueAfter: configuration.rescueAfter.seconds, queues: queues)
        return (try? PQJSON(encoding: report)) ?? PQJSON(text: "{}")
    }

    /// Runs `body`, waiting (with backoff) while the database cannot be reached; a missing
    /// Porter schema becomes `PorterError.schemaMissing`.
    @discardableResult
    private func untilDatabaseAnswers<T>(_ purpose: String, _ body: () async throws -> T) async throws -> T {
        var failures = 0
        while true {
            do {
                let sentAt = ContinuousClock.now
                let value = try await body()
                outage.succeeded(sentAt: sentAt)
                return value
            } catch where outage.failed(error, during: purpose) {
                failures += 1
                try await Task.sleep(for: DatabaseOutage.backoff(afterFailures: failures))
            } catch {
                throw PorterError.schemaMissing(error)
            }
        }
    }
}
