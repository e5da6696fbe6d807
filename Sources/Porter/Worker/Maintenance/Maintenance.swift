import Logging
import PorterPostgres

/// The periodic upkeep every worker runs: rescuing the started jobs of dead workers, pruning
/// old finished and failed jobs (one process at a time, by advisory lock), forgetting
/// scheduler fires older than a week, and vacuuming porter.jobs when it holds many dead rows.
///
/// A worker also runs the rescue on its own session twice a second (`rescueDeadWorkers()`): a
/// worker process that dies is found from its session ending, so its jobs run again within
/// seconds.
public struct Maintenance: Sendable {
    /// What one pass did.
    public struct Result: Sendable, Hashable {
        /// Jobs put back in the queue because their worker died.
        public var requeued: [Int64]
        /// Jobs failed as poison: orphaned `max_orphaned` times.
        public var poisoned: [Int64]
        /// Old jobs deleted.
        public var pruned: Int
        /// Whether this pass vacuumed porter.jobs.
        public var vacuumed = false
    }

    let pool: PQPool
    let configuration: WorkerConfiguration
    let logger: Logger

    /// Maintenance on `pool`, with the retention, rescue and vacuum settings of `configuration`.
    public init(pool: PQPool, configuration: WorkerConfiguration, logger: Logger) {
        self.pool = pool
        self.configuration = configuration
        self.logger = logger
    }

    /// One rescue of every started job without a live worker (unless `rescue` is false), one
    /// prune, and a vacuum if one is due. A worker passes `rescue: false` until it has been in
    /// contact with the database for `rescue_after` (see the HighAvailability article).
    @discardableResult
    public func runOnce(rescue: Bool = true) async throws -> Result {
        var result = rescue ? try await self.rescue(everyStartedJob: true) : Result(requeued: [], poisoned: [], pruned: 0)
        result.pruned = try await pool.query(
            MaintenanceQueries.prune(
                finished: configuration.finishedRetention, failed: configuration.failedRetention, limit: 10_000)
        ).affectedRows
        try await pool.query(MaintenanceQueries.pruneScheduleFires)
        try await pool.query(RealtimeQueries.pruneStoredMessages)
        let threshold = configuration.vacuumThreshold
        if threshold > 0, try await pool.query(MaintenanceQueries.deadJobRows).single(Int.self) >= threshold {
            try await pool.query(MaintenanceQueries.vacuumJobs)
            result.vacuumed = true
        }
        return result
    }

    /// Rescues the started jobs of the workers found dead now: those whose session lock has
    /// been free for the session grace (2 s) and that heartbeat in the last half of
    /// `rescue_after`, or, when `trustHeartbeats`, whose heartbeat is `rescue_after` old. Cheap:
    /// it reads porter.workers and, only for dead workers, their jobs by worker id. A worker
    /// passes `trustHeartbeats: false` until it has been in contact with the database for
    /// `rescue_after` (see the HighAvailability article).
    @discardableResult
    public func rescueDeadWorkers(trustHeartbeats: Bool = true) async throws -> Result {
        try await Self.rescue(
            configuration: configuration, logger: logger, everyStartedJob: false, trustHeartbeats: trustHeartbeats
        ) { try await pool.query($0) }
    }

    private func rescue(everyStartedJob: Bool) async throws -> Result {
        try await Self.rescue(configuration: configuration, logger: logger, everyStartedJob: everyStartedJob) { try await pool.query($0) }
    }

    /// One rescue, its statement run by `run`; `prober` is the worker whose session runs it.
    @discardableResult
    static func rescue(
        configuration: WorkerConfiguration, logger: Logger, everyStartedJob: Bool, trustHeartbeats: Bool = true,
        prober: String? = nil, run: (PQQuery) async throws -> PQRows
    ) async throws -> Result {
        var result = Result(requeued: [], poisoned: [], pruned: 0)
        let rescued = try await run(
            MaintenanceQueries.rescue(
                rescueAfter: configuration.rescueAfter, sessionGrace: configuration.sessionGrace,
                maxOrphaned: configuration.maxOrphaned, everyStartedJob: everyStartedJob,
                trustHeartbeats: trustHeartbeats, prober: prober))
        for row in rescued {
            let (id, status, queue) = try row.decode((Int64, String, String).self)
            if status == "failed" { result.poisoned.append(id) } else { result.requeued.append(id) }
            QueueMetrics.of(queue).rescued.increment()
        }
        if !result.requeued.isEmpty || !result.poisoned.isEmpty {
            logger.info(
                "rescued jobs of dead workers",
                metadata: ["porter.requeued": "\(result.requeued)", "porter.poisoned": "\(result.poisoned)"])
        }
        return result
    }
}
