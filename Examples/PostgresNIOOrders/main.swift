// Porter inside a postgres-nio app: PostgresNIO, Porter and PorterPostgres imported together,
// an order and its job committed in one PostgresClient transaction, a rolled-back one leaving
// neither, and a deduplicated second click. The program checks each claim and exits 1 on a
// mismatch.
//
//   swift run porter-example-postgres-nio "postgresql://localhost/app"
//
// Without an argument it uses PORTER_DATABASE_URL, else libpq's PG* defaults.
import Foundation
import Logging
import Porter
import PorterPostgres
import PorterPostgresNIO
import PostgresNIO

struct SendConfirmation: Job {
    static let method = "orders.send_confirmation"
    var orderID: Int
}

/// Stops the program when a claim does not hold.
struct Mismatch: Error, CustomStringConvertible {
    var description: String
}

func check(_ condition: Bool, _ claim: String) throws {
    guard condition else { throw Mismatch(description: "expected \(claim)") }
    print("ok: \(claim)")
}

/// Inserts an order on the transaction's connection and returns its id.
func insertOrder(customer: String, on connection: PostgresConnection, logger: Logger) async throws -> Int {
    let insert: PostgresQuery = "INSERT INTO orders (customer) VALUES (\(customer)) RETURNING id"
    let rows: [PostgresRow] = try await connection.query(insert, logger: logger).collect()
    return try rows[0].decode(Int.self)
}

/// The program's claims, on the app's postgres-nio `client`; `porter` reads the jobs back.
func run(client: PostgresClient, porter: PorterClient, wakeUps: PostgresNotificationSequence, logger: Logger) async throws {
    // 1. The order and its job commit together.
    let result = try await client.withTransaction(logger: logger) { connection in
        let id = try await insertOrder(customer: "Scoop & Joy", on: connection, logger: logger)
        return try await connection.enqueue(SendConfirmation(orderID: id), options: EnqueueOptions(queue: "short", jobID: "confirm-\(id)", deduplicate: true), logger: logger)
    }
    guard case .enqueued(let jobID) = result else { throw Mismatch(description: "expected a new job, got \(result)") }
    let job = try await porter.job(id: jobID)
    try check(job?.status == .queued && job?.queue == "short", "committed: job \(jobID) is queued on short")
    var notifications = wakeUps.makeAsyncIterator()
    let wakeUp: PostgresNotification? = try await notifications.next()
    try check(wakeUp?.payload == "short", "the commit sent NOTIFY porter_enqueue 'short'")

    // 2. A rolled-back transaction leaves neither the order nor its job.
    struct PaymentDeclined: Error {}
    do {
        try await client.withTransaction(logger: logger) { connection in
            let id = try await insertOrder(customer: "Declined Card Ltd", on: connection, logger: logger)
            try await connection.enqueue(SendConfirmation(orderID: id), options: EnqueueOptions(queue: "short", jobID: "confirm-\(id)"), logger: logger)
            throw PaymentDeclined()
        }
    } catch let error as PostgresTransactionError where error.closureError is PaymentDeclined {}
    let orders = try await client.query("SELECT count(*) FROM orders", logger: logger).collect()[0].decode(Int.self)
    let jobs = try await porter.jobs().count
    try check(orders == 1 && jobs == 1, "rolled back: still one order and one job")

    // 3. A second click for the same order is deduplicated; without `deduplicate` it is an
    // error, which postgres-nio's withTransaction hands back as the closure's error.
    let orderID = try job?.args.decode(SendConfirmation.self).orderID ?? 0
    let again = try await client.withTransaction(logger: logger) { connection in
        try await connection.enqueue(
            SendConfirmation(orderID: orderID), options: EnqueueOptions(queue: "short", jobID: "confirm-\(orderID)", deduplicate: true),
            logger: logger)
    }
    try check(again == .duplicate(jobID: "confirm-\(orderID)"), "clicked again: .duplicate, nothing queued")
    do {
        _ = try await client.withTransaction(logger: logger) { connection in
            try await connection.enqueue(
                method: SendConfirmation.method, args: PQJSON(encoding: SendConfirmation(orderID: orderID)),
                options: EnqueueOptions(queue: "short", jobID: "confirm-\(orderID)"), logger: logger)
        }
        throw Mismatch(description: "expected a duplicate-job error")
    } catch let error as PostgresTransactionError {
        let duplicate = error.closureError as? PorterError
        try check(duplicate?.code == .duplicateJob(jobID: "confirm-\(orderID)") && duplicate?.sqlState == .uniqueViolation,
                  "without deduplicate: PorterError.duplicateJob, SQLSTATE 23505")
    }

    // 4. A batch, a document method and an event, in one more transaction.
    let batch = try await client.withTransaction(logger: logger) { connection in
        let results = try await connection.enqueueMany(
            [EnqueueRequest(method: "reports.daily"), EnqueueRequest(method: "reports.weekly", options: EnqueueOptions(queue: "long"))],
            logger: logger)
        try await connection.enqueueDoc(doctype: "Outlet", name: "SJ-0042", method: "sync_stock", logger: logger)
        try await connection.publishRealtime(event: "order_confirmed", message: PQJSON(text: #"{"order": 1}"#), logger: logger)
        return results
    }
    try check(batch.compactMap(\.id).count == 2, "enqueueMany: two jobs in one statement")
    let all = try await porter.jobs().count
    try check(all == 4, "four jobs in all")
}

let url = CommandLine.arguments.dropFirst().first ?? ProcessInfo.processInfo.environment["PORTER_DATABASE_URL"] ?? ""
let logger = {
    var logger = Logger(label: "example.postgres-nio")
    logger.logLevel = .warning
    return logger
}()
let settings = try PQConfiguration(url)
// Porter's own client migrates and reads jobs; the app's statements go through postgres-nio.
let porter = PorterClient(pool: PQPool(settings, maximumConnections: 2, logger: logger), logger: logger)
try await porter.migrate()
let client = PostgresClient(configuration: try .init(settings), backgroundLogger: logger)

try await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { await client.run() }
    try await client.query("CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, customer text NOT NULL)", logger: logger)
    // A committed enqueue NOTIFYs porter_enqueue with its queue: what wakes idle workers.
    try await client.withConnection { listener in
        try await listener.listen(on: "porter_enqueue") { wakeUps in
            try await run(client: client, porter: porter, wakeUps: wakeUps, logger: logger)
        }
    }
    group.cancelAll()
}
await porter.close()
print("done")
