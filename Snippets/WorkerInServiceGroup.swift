// Handlers registered, then a worker in the app's ServiceGroup: it shuts down gracefully on
// SIGTERM or SIGINT, finishing the jobs it holds.
import Logging
import Porter
import ServiceLifecycle

// snippet.hide
struct GenerateReport: Job {
    static let method = "reports.generate"
    var outletGroup: String?
}
let url = "postgresql://localhost/app"
let logger = Logger(label: "app")
// snippet.show
var registry = JobRegistry()
registry.register(GenerateReport.self) { job, context in
    context.logger.info("generating", metadata: ["group": "\(job.outletGroup ?? "all")"])
    try await Task.sleep(for: .seconds(1))  // honour cancellation: timeouts and shutdown use it
    return ["rows": 42]                      // stored in porter.jobs.result
}
let configuration = try WorkerConfiguration.load(path: "porter.json")
// queues: `now` runs then get the timeouts this worker gives the same jobs.
let porter = try PorterClient(databaseURL: url, registry: registry, queues: configuration.queues)
let worker = Worker(client: porter, configuration: configuration)
try await ServiceGroup(services: [worker], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger).run()
