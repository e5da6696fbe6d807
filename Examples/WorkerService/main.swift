// An app that runs a Porter worker in its own ServiceGroup, beside its other services, and
// shuts it down gracefully on SIGTERM or SIGINT.
//
//   swift run porter-example-worker-service "postgresql://localhost/app"
import Foundation
import Logging
import Porter
import ServiceLifecycle

struct GenerateReport: Job {
    static let method = "reports.generate"
    var outletGroup: String?
}

let url = CommandLine.arguments.dropFirst().first ?? ProcessInfo.processInfo.environment["PORTER_DATABASE_URL"] ?? ""
let logger = Logger(label: "example.worker")

var registry = JobRegistry()
registry.register(GenerateReport.self) { job, context in
    context.logger.info("generating report", metadata: ["group": "\(job.outletGroup ?? "all")"])
    try await Task.sleep(for: .milliseconds(100))  // cancellable: honours timeouts and shutdown
    return ["rows": 42]
}

let porter = try PorterClient(databaseURL: url, registry: registry, logger: logger)
try await porter.migrate()
try await porter.enqueue(GenerateReport(outletGroup: "north"), options: EnqueueOptions(queue: "long"))

var configuration = WorkerConfiguration()
configuration.queues["long"]?.backgroundWorkers = 2
let worker = Worker(client: porter, configuration: configuration, logger: logger)
let group = ServiceGroup(
    configuration: .init(services: [.init(service: worker)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
try await group.run()
await porter.close()
