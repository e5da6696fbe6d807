import Hummingbird
import Logging
import Porter
import PorterPostgres
import PorterPostgresNIO
import PostgresNIO
import ServiceLifecycle

/// The service: postgres-nio's client, Porter's worker and realtime listener, and the HTTP
/// server, all in the application's ServiceGroup. Shutdown runs in reverse: the server stops
/// taking requests, the worker finishes what it holds, then the clients close. Porter's schema
/// is migrated first, since the worker refuses a database whose schema is behind it.
func buildApplication(_ configuration: OrdersConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let settings = try PQConfiguration(configuration.databaseURL, applicationName: "orders")
    let postgres = PostgresClient(configuration: try .init(settings), backgroundLogger: logger)
    let porter = PorterClient(
        pool: PQPool(settings, maximumConnections: 8, logger: logger), registry: orderJobs(configuration, logger: logger),
        logger: logger)
    try await porter.migrate()
    var workerConfiguration = WorkerConfiguration()
    workerConfiguration.queues["short"]?.backgroundWorkers = 4
    let worker = Worker(client: porter, configuration: workerConfiguration, queues: ["short"], logger: logger)
    let realtime = RealtimeService(listener: RealtimeListener(client: porter, logger: logger))

    let router = Router()
    OrdersController(postgres: postgres, realtime: realtime.listener, logger: logger).addRoutes(to: router.group("orders"))
    var app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: configuration.port)), logger: logger)
    app.addServices(postgres, realtime, worker)
    app.beforeServerStarts {
        try await postgres.query(OrdersSchema.create, logger: logger)
        try await realtime.listener.start()
    }
    return app
}

/// The handlers Porter's worker runs in this service (internal, so its tests can run them
/// under PorterTesting's worker).
func orderJobs(_ configuration: OrdersConfiguration, logger: Logger) -> JobRegistry {
    var registry = JobRegistry()
    registry.register(SendConfirmation.self) { job, context in
        for step in 1...configuration.steps {
            try await Task.sleep(for: configuration.stepDuration)  // the work: cancellable, for timeouts and shutdown
            try await context.publishProgress(
                percent: Double(step * 100 / configuration.steps), title: "Sending confirmation",
                description: "step \(step) of \(configuration.steps)")
        }
        try await context.pool.query("UPDATE orders SET confirmed_at = now() WHERE id = \(job.orderID)")
        return ["order": job.orderID]
    }
    return registry
}
