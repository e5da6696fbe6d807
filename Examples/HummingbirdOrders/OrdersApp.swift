// A Hummingbird 2 service with Porter: an order and its confirmation job commit in one
// postgres-nio transaction, and the job's status and progress are served over HTTP.
//
//   PORTER_DATABASE_URL=$(porter dev url) swift run porter-example-hummingbird
//   curl -s -X POST localhost:8080/orders -d '{"customer": "Scoop & Joy", "items": 3}'
//   curl -s localhost:8080/orders/1
//   curl -sN localhost:8080/orders/1/events                  # server-sent progress, until the job ends
//
// One URL configures both clients: postgres-nio for the app's own statements and enqueues,
// Porter's libpq pool for the worker and the realtime listener. Without PORTER_DATABASE_URL or
// DATABASE_URL it uses libpq's PG* defaults; `porter dev url` prints the development server's.
import Foundation
import Hummingbird
import Logging

@main
struct OrdersApp {
    static func main() async throws {
        let environment = ProcessInfo.processInfo.environment
        var logger = Logger(label: "orders")
        logger.logLevel = environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let configuration = OrdersConfiguration(
            databaseURL: environment["PORTER_DATABASE_URL"] ?? environment["DATABASE_URL"] ?? "",
            port: environment["PORT"].flatMap(Int.init) ?? 8080)
        let app = try await buildApplication(configuration, logger: logger)
        try await app.runService()
    }
}
