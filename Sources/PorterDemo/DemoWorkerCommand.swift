import ArgumentParser
import Foundation
import Logging
import Porter
import PorterCLI
import PorterPostgres
import ServiceLifecycle

/// `porter demo worker`: a worker process with ScoopJoy's jobs, started (and killed) by the
/// stock-sync demo. Hidden: it is the demo's, not a user's.
struct DemoWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "A worker with the demo's jobs (started by porter demo).", shouldDisplay: false)

    @OptionGroup var connection: ConnectionOptions

    /// Quick rescue, so the demo's restart resumes within seconds: heartbeats every 0.5 s, and
    /// a worker silent for 2 s is dead.
    static var workerConfiguration: WorkerConfiguration {
        var configuration = WorkerConfiguration(
            pollInterval: .milliseconds(500), heartbeatInterval: .milliseconds(500), rescueAfter: .seconds(2),
            maintenanceInterval: .milliseconds(500), shutdownGrace: .seconds(5))
        configuration.queues["default"]?.backgroundWorkers = 2
        configuration.queues["short"]?.backgroundWorkers = 2
        return configuration
    }

    func run() async throws {
        var logger = Logger(label: "porter.demo.worker")
        logger.logLevel = .info
        let porter = PorterClient(
            pool: .init(try .init(connection.configuredURL ?? ""), maximumConnections: 10, logger: logger),
            registry: ScoopJoy.registry, logger: logger)
        let worker = Worker(client: porter, configuration: Self.workerConfiguration, queues: ["default", "short"], logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: worker)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // The demo owns this process: if the demo dies without stopping it, stop too.
        let parent = getppid()
        let orphanWatch = Task {
            while !Task.isCancelled, getppid() == parent { try? await Task.sleep(for: .milliseconds(500)) }
            if !Task.isCancelled { await group.triggerGracefulShutdown() }
        }
        defer { orphanWatch.cancel() }
        try await group.run()
        await porter.close()
    }
}
