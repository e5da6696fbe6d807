// The same order and job inside an app's own postgres-nio transaction, with the same rules,
// results and errors as Porter's own path.
import Logging
import Porter
import PorterPostgres
import PorterPostgresNIO
import PostgresNIO

// snippet.hide
struct SendConfirmation: Job {
    static let method = "orders.send_confirmation"
    var orderID: Int
}
let customer = "Scoop & Joy"
let logger = Logger(label: "app")
// snippet.show
let settings = try PQConfiguration("postgresql://localhost/app")  // one URL for both clients
let client = PostgresClient(configuration: try .init(settings), backgroundLogger: logger)
// ... client.run() runs in your ServiceGroup ...

let result = try await client.withTransaction(logger: logger) { connection in
    let rows = try await connection.query(
        "INSERT INTO orders (customer) VALUES (\(customer)) RETURNING id", logger: logger)
    let id = try await rows.collect()[0].decode(Int.self)
    return try await connection.enqueue(SendConfirmation(orderID: id), options: EnqueueOptions(queue: "short", jobID: "confirm-\(id)", deduplicate: true), logger: logger)
}
// A refused enqueue throws PorterError, which withTransaction hands back as the
// PostgresTransactionError's closureError, after rolling back the order too.
