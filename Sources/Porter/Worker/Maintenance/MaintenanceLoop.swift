import Logging
import PorterPostgres

/// A worker's maintenance, every `maintenance_interval`: rescues the jobs of dead workers,
/// prunes old jobs and vacuums (`Maintenance`), stops skipping handed-back jobs that no live
/// worker can run any more (`ForeignJobs`), then reads the queues' depth and lag for the
/// metrics backend, if there is one.
///
/// It runs on a connection of its own (`pool`), never the heartbeat's: a slow count or vacuum
/// must never make a live worker look dead.
struct MaintenanceLoop: Sendable {
    /// The maintenance connection.
    let pool: PQPool
    /// The queues whose gauges it records.
    let queues: [String]
    /// The worker it maintains for.
    let runtime: WorkerRuntime
    /// Whether the worker has reached the database long enough to judge others dead.
    let contact: DatabaseContact
    /// The claimers to wake when a handed-back method may run here again.
    let claimers: [String: [QueueClaimer]]

    /// Runs until cancelled.
    func run() async {
        let configuration = runtime.configuration
        let logger = runtime.logger
        let maintenance = Maintenance(pool: pool, configuration: configuration, logger: logger)
        // The first reading waits one interval: counting every queued job of each queue just
        // as the claimers start (every worker at once, in a deploy) would compete with them.
        var gaugesDue = false
        while !Task.isCancelled {
            do {
                let sentAt = ContinuousClock.now
                try await maintenance.runOnce(rescue: contact.hasLasted(configuration.rescueAfter))
                contact.reached()
                runtime.outage.succeeded(sentAt: sentAt)
            } catch where runtime.outage.failed(error, during: "maintenance") {
                // Logged once per outage; the next interval tries again.
                contact.failed(error)
            } catch {
                contact.failed(error)
                logger.info("maintenance failed; trying again next interval", metadata: ["error": "\(error)"])
            }
            for queue in await runtime.foreign.refresh() {
                for claimer in claimers[queue] ?? [] { claimer.wake() }
            }
            if gaugesDue && JobMetrics.backendBootstrapped {
                do {
                    try await recordQueueGauges()
                } catch {
                    logger.info("could not read the queues' depth for the metrics", metadata: ["error": "\(error)"])
                }
            }
            gaugesDue = true
            try? await Task.sleep(for: configuration.maintenanceInterval)
        }
    }

    /// Reads how many jobs of each served queue may run now, and how long the oldest has
    /// waited, into the `porter_queue_depth` and `porter_queue_lag_seconds` gauges.
    private func recordQueueGauges() async throws {
        var depths = Dictionary(queues.map { ($0, (depth: 0, lag: 0.0)) }, uniquingKeysWith: { first, _ in first })
        for row in try await pool.query(QueueQueries.depth(queues: queues)) {
            let (queue, depth, lag) = try row.decode((String, Int, Double).self)
            depths[queue] = (depth, lag)
        }
        for (queue, figures) in depths {
            let metrics = QueueMetrics.of(queue)
            metrics.depth.record(figures.depth)
            metrics.lag.record(figures.lag)
        }
        // Jobs held back by each flow-control limit of a served queue (porter_limit_waiting_jobs).
        let limits = try await pool.query(LimitQueries.stats).single(PQJSON.self).decode([PorterStats.Limit].self)
        for entry in limits where queues.contains(entry.limit.queue) {
            LimitMetrics.of(entry.limit).waiting.record(entry.waiting)
        }
    }
}
