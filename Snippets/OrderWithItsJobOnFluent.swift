// A Vapor route's order and its confirmation job in one Fluent transaction: `db` is what
// `req.db.transaction` hands the closure, and the job commits or rolls back with the order.
import FluentKit
import Porter
import PorterFluent

// snippet.hide
struct SendConfirmation: Job {
    static let method = "orders.send_confirmation"
    var orderID: Int
}
final class Order: Model, @unchecked Sendable {
    static let schema = "orders"
    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "customer") var customer: String
    init() {}
}
/// Vapor's `Request`, as far as this snippet needs it: `req.db` is a Fluent `Database`.
struct Request { var db: any Database }
func create(_ order: Order, _ req: Request) async throws {
// snippet.show
let result = try await req.db.transaction { db in
    try await order.create(on: db)
    let id = try order.requireID()
    return try await db.enqueue(
        SendConfirmation(orderID: id),
        options: EnqueueOptions(queue: "short", jobID: "confirm-\(id)", deduplicate: true))
}
// .enqueued(id:), or .duplicate(jobID:) when an active job has that job_id: as on every path.
// snippet.hide
_ = result
}
