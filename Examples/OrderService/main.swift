// A service that records an order and enqueues its confirmation in the same transaction.
//
//   swift run porter-example-order-service "postgresql://localhost/app"
//
// Without an argument it uses PORTER_DATABASE_URL, else libpq's PG* defaults.
import Foundation
import Porter
import PorterPostgres

struct SendConfirmation: Job {
    static let method = "orders.send_confirmation"
    var orderID: Int
}

let url = CommandLine.arguments.dropFirst().first ?? ProcessInfo.processInfo.environment["PORTER_DATABASE_URL"] ?? ""
let porter = try PorterClient(databaseURL: url)
try await porter.migrate()
try await porter.pool.query("CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, customer text NOT NULL)")

// The order and its job commit together, or neither exists.
let result = try await porter.pool.withTransaction { transaction in
    let orderID = try transaction.query("INSERT INTO orders (customer) VALUES (\("Scoop & Joy")) RETURNING id").single(Int.self)
    return try await porter.enqueue(
        SendConfirmation(orderID: orderID),
        options: EnqueueOptions(queue: "short", jobID: "confirm-\(orderID)", deduplicate: true),
        on: transaction)
}
print("order saved, confirmation job: \(result)")
await porter.close()
