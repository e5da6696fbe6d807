// An order and the job that confirms it, in one transaction on Porter's own pool: both
// commit, or neither exists.
import Porter

struct SendConfirmation: Job {
    static let method = "orders.send_confirmation"
    var orderID: Int
}

// snippet.hide
let customer = "Scoop & Joy"
// snippet.show
let porter = try PorterClient(databaseURL: "postgresql://localhost/app")
try await porter.migrate()  // idempotent; safe from several processes at once

let result = try await porter.pool.withTransaction { transaction in
    let orderID = try transaction.query(
        "INSERT INTO orders (customer) VALUES (\(customer)) RETURNING id").single(Int.self)
    return try await porter.enqueue(
        SendConfirmation(orderID: orderID),
        options: EnqueueOptions(queue: "short", jobID: "confirm-\(orderID)", deduplicate: true),
        on: transaction)
}
// result is .enqueued(id:), or .duplicate(jobID:) when deduplicate found an active job,
// or .ranInline(result:) when EnqueueOptions(now: true) ran it in the caller
