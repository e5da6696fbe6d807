import Fluent
import FluentPostgresDriver
import Porter
import PorterPostgres
import Vapor

/// The app: Fluent on PostgreSQL for its rows, Porter's schema migrated, the order routes, and
/// Porter's worker in the app's lifecycle. Porter's schema is migrated before the worker
/// starts, since a worker refuses a database whose schema is behind it.
func configure(_ app: Application, _ configuration: OrdersConfiguration) async throws {
    let settings = try PQConfiguration(configuration.databaseURL, applicationName: "orders")
    app.databases.use(.postgres(configuration: try SQLPostgresConfiguration(settings)), as: .psql)
    app.migrations.add(CreateOrders())
    try await app.autoMigrate()
    try app.register(collection: OrdersController())

    // Porter: a client on the same database, its schema, and the worker in the app's lifecycle.
    let porter = PorterClient(pool: PQPool(settings, logger: app.logger), registry: orderJobs(app, configuration), logger: app.logger)
    try await porter.migrate()
    let worker = Worker(client: porter, configuration: configuration.worker, queues: ["short"], logger: app.logger)
    app.lifecycle.use(PorterLifecycle(porter: porter, worker: configuration.inProcessWorker ? worker : nil))
}

/// The handlers Porter's worker runs in this app: a job's own work can use Fluent (`app.db`)
/// like any route.
func orderJobs(_ app: Application, _ configuration: OrdersConfiguration) -> JobRegistry {
    var registry = JobRegistry()
    registry.register(SendConfirmation.self) { job, _ in
        try await Task.sleep(for: configuration.sendDuration)  // the work: cancellable, for timeouts and shutdown
        guard let order = try await Order.find(job.orderID, on: app.db) else {
            throw Abort(.notFound, reason: "no order \(job.orderID)")
        }
        order.confirmedAt = Date()
        try await order.update(on: app.db)
        return ["order": job.orderID]
    }
    return registry
}
