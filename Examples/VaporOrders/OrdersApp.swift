// A Vapor 4 + Fluent service with Porter: an order and its confirmation job commit in one
// Fluent transaction (`req.db.transaction { db in ... db.enqueue(...) }`), and a Porter
// worker started with the app sends the confirmation.
//
//   PORTER_DATABASE_URL=$(porter dev url) swift run porter-example-vapor serve --port 8080
//   curl -s -X POST localhost:8080/orders -H 'content-type: application/json' \
//        -d '{"customer": "Scoop & Joy", "items": 3, "reference": "web-1"}'
//   curl -s localhost:8080/orders/1
//
// One URL configures both: Fluent's PostgreSQL driver for the app's rows and enqueues,
// Porter's libpq pool for the worker. Without PORTER_DATABASE_URL or DATABASE_URL it uses
// libpq's PG* defaults; `porter dev url` prints the development server's. Or leave the worker
// out (`PORTER_IN_PROCESS_WORKER=0`) and run `worker --queue short` of an executable of your own
// that registers the same jobs with `PorterCLI.main(registry:)` (see Examples/CustomPorter).
import Vapor

@main
struct OrdersApp {
    static func main() async throws {
        var environment = try Environment.detect()
        try LoggingSystem.bootstrap(from: &environment)
        let app = try await Application.make(environment)
        do {
            let variables = ProcessInfo.processInfo.environment
            var configuration = OrdersConfiguration(
                databaseURL: variables["PORTER_DATABASE_URL"] ?? variables["DATABASE_URL"] ?? "")
            configuration.inProcessWorker = variables["PORTER_IN_PROCESS_WORKER"] != "0"
            try await configure(app, configuration)
            try await app.execute()
        } catch {
            app.logger.report(error: error)
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}
