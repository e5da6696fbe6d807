import Logging
import Porter
import PorterTesting
import Vapor
import VaporTesting

@testable import porter_example_vapor

/// The example's settings for a test database: a worker that reacts in tenths of seconds and
/// a confirmation that takes 10 ms, unless `change` says otherwise.
func ordersConfiguration(
    _ database: TestDatabase, _ change: (inout OrdersConfiguration) -> Void = { _ in }
) -> OrdersConfiguration {
    var configuration = OrdersConfiguration(databaseURL: database.connectionString)
    configuration.worker = .forTests()
    configuration.sendDuration = .milliseconds(10)
    change(&configuration)
    return configuration
}

/// A booted example app on `database` (Fluent, Porter's schema, the routes, the in-process
/// worker when configured), shut down gracefully after `body`, as VaporTesting's `withApp`
/// does. Booted with `asyncBoot()` first, since `app.testing()` boots with the synchronous
/// path, which does not call the lifecycle's async hooks.
func withOrdersApp<T>(
    _ database: TestDatabase, _ change: (inout OrdersConfiguration) -> Void = { _ in },
    _ body: (Application) async throws -> T
) async throws -> T {
    let configuration = ordersConfiguration(database, change)
    return try await withApp(
        configure: { app in
            app.logger.logLevel = .warning
            try await configure(app, configuration)
            try await app.asyncBoot()
        }, body)
}
