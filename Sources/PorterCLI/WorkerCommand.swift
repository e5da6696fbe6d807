import ArgumentParser
import Foundation
import Logging
import Porter
import ServiceLifecycle

/// `porter worker`: runs jobs until SIGTERM or SIGINT, then shuts down gracefully.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run jobs: claim, run, retry, rescue; shut down gracefully on SIGTERM/SIGINT.")

    @Option(help: "Comma-separated queues to serve, e.g. short,default. Default: every configured queue.")
    var queue: String?

    @Option(help: "JSON config file (Frappe's keys, e.g. {\"workers\": {\"myqueue\": {\"timeout\": 5000, \"background_workers\": 4}}}). Default: PORTER_CONFIG.")
    var config: String?

    @Flag(name: .customLong("poll-only"), help: "Never LISTEN; poll only (for PgBouncer transaction pooling).")
    var pollOnly = false

    @Flag(help: "Apply missing migrations before starting.")
    var migrate = false

    @Flag(help: "Also run the scheduler (scheduler_events) in this process.")
    var scheduler = false

    @Option(
        name: .customLong("metrics-port"),
        help: "Serve GET /metrics (Prometheus), /health/live and /health/ready on this port, \(WorkerCommand.metricsPortRange.text); 0 picks a free one.")
    var metricsPort: Int?

    @Option(name: .customLong("metrics-host"), help: "Address for --metrics-port; 0.0.0.0 lets a Prometheus on another machine scrape it.")
    var metricsHost = "127.0.0.1"

    @OptionGroup var connection: ConnectionOptions

    static let metricsPortRange = FlagRange("--metrics-port", 0...65_535)

    func validate() throws {
        try Self.metricsPortRange.check(metricsPort)
    }

    func run() async throws {
        let web = PorterCLI.web
        if metricsPort != nil {
            guard let web else {
                throw CommandFailure(
                    message: "this executable was built without the metrics endpoint; bootstrap swift-metrics in your own app, or run the porter executable's worker")
            }
            // Before the first handle is made: swift-metrics binds handles to the backend of the moment.
            web.bootstrapMetrics()
        }
        var configuration = try WorkerCommand.loadConfiguration(config)
        if pollOnly { configuration.pollOnly = true }
        let queues = try queue.map { list in
            let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !names.isEmpty else { throw ValidationError("--queue needs at least one queue name, e.g. --queue short,default") }
            return names
        }
        var logger = Logger(label: "porter.worker")
        logger.logLevel = ProcessInfo.processInfo.environment["PORTER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let served = queues ?? configuration.queues.keys.sorted()
        // One connection per job slot, plus claimers, completer and maintenance. The config
        // loader holds background_workers to 1...10,000 per queue, so the sum cannot overflow.
        let slots = served.map { configuration.queue($0).backgroundWorkers }.reduce(0, +)
        // Before the client and the worker: the worker takes the process's tracer at its start.
        let exporter = try PorterCLI.traceExportServices(logger: logger)
        let porter = PorterClient(
            pool: .init(try .init(try connection.resolvedURL()), maximumConnections: slots + served.count + 3, logger: logger),
            registry: PorterCLI.registry, queues: configuration.queues, logger: logger)
        if migrate { try await porter.migrate() }
        // Once, at start. An unreachable database is the worker's to wait for and report.
        if (try? await porter.connectsAsSuperuser()) == true {
            logger.warning(
                "this worker logs in as a superuser, so its sql: functions and handlers run with every right; connect it as a role given porter.grant_worker instead, e.g. SELECT porter.grant_worker('porter_worker') (see the RolesAndPrivileges article, Sources/Porter/Porter.docc/RolesAndPrivileges.md)")
        }
        let worker = Worker(client: porter, configuration: configuration, queues: served, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: worker)]
        if let metricsPort, let web {
            // First, so that shutdown (in reverse order) stops it last: it answers while the worker drains.
            services.insert(.init(service: web.metricsEndpoint(host: metricsHost, port: metricsPort, client: porter, logger: logger)), at: 0)
        }
        if scheduler {
            let schedule = try SchedulerCommand.loadSchedule(config)
            services.append(.init(service: Scheduler(client: porter, configuration: schedule, logger: logger)))
        }
        let group = ServiceGroup(
            configuration: .init(services: exporter + services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await porter.close()
    }

    /// `--config`, else `PORTER_CONFIG`, else the defaults.
    static func loadConfiguration(_ path: String?) throws -> WorkerConfiguration {
        guard let path = path ?? ProcessInfo.processInfo.environment["PORTER_CONFIG"], !path.isEmpty else {
            return WorkerConfiguration()
        }
        do {
            return try WorkerConfiguration.load(path: path)
        } catch let error as ConfigurationError {
            throw CommandFailure(message: "\(path): \(error)")
        }
    }
}
