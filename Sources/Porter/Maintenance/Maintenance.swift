import Logging
import PorterPostgres

/// The periodic upkeep every worker runs: rescuing the started jobs of dead workers, pruning
/// old finished and failed jobs (one process at a time, by advisory lock), forgetting
/// scheduler fires older than a week, and vacuuming porter.jobs when it holds many dead rows.
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

    public init(pool: PQPool, configuration: WorkerConfiguration, logger: Logger) {
        self.pool = pool
        self.configuration = configuration
        self.logger = logger
    }

    /// One rescue (unless `rescue` is false), one prune, and a vacuum if one is due. A worker
    /// passes `rescue: false` until it has been in contact with the database for `rescue_after`
    /// (see the README's "Running on a highly available PostgreSQL").
    @discardableResult
    public func runOnce(rescue: Bool = true) async throws -> Result {
        var result = Result(requeued: [], poisoned: [], pruned: 0)
        if rescue {
            let rescued = try await pool.query(
                MaintenanceQueries.rescue(rescueAfter: configuration.rescueAfter, maxOrphaned: configuration.maxOrphaned))
            for row in rescued {
                let (id, status, queue) = try row.decode((Int64, String, String).self)
                if status == "failed" { result.poisoned.append(id) } else { result.requeued.append(id) }
                QueueMetrics.of(queue).rescued.increment()
            }
        }
        if !result.requeued.isEmpty || !result.poisoned.isEmpty {
            logger.info(
                "rescued jobs of dead workers",
                metadata: ["porter.requeued": "\(result.requeued)", "porter.poisoned": "\(result.poisoned)"])
        }
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
}
