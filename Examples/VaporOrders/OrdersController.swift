import Fluent
import Porter
import PorterFluent
import Vapor

/// `/orders`: create an order with its confirmation job, and read it back.
struct OrdersController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let orders = routes.grouped("orders")
        orders.post(use: create)
        orders.get(":id", use: show)
    }

    /// `POST /orders {"customer": "...", "items": 3, "reference": "web-1"}`: the order row and
    /// its confirmation job commit in one Fluent transaction, or neither exists. 201 with
    /// `{"id", "job"}`; 409 when an order with the same reference was already taken, since
    /// its job is then a duplicate and the transaction rolls the new row back.
    @Sendable func create(_ req: Request) async throws -> Response {
        let new = try req.content.decode(NewOrder.self)
        guard new.items > 0, !new.customer.isEmpty else {
            throw Abort(.badRequest, reason: "an order needs a customer and at least one item")
        }
        let created = try await req.db.transaction { db in
            let order = Order(customer: new.customer, items: new.items, reference: new.reference)
            try await order.create(on: db)
            let id = try order.requireID()
            let result = try await db.enqueue(
                SendConfirmation(orderID: id),
                options: EnqueueOptions(queue: "short", jobID: "confirm-\(new.reference ?? String(id))", deduplicate: true))
            guard case .enqueued(let job) = result else {
                throw Abort(.conflict, reason: "order \(new.reference ?? String(id)) was already taken")
            }
            order.job = job
            try await order.update(on: db)
            return CreatedOrder(id: id, job: job)
        }
        return try await created.encodeResponse(status: .created, for: req)
    }

    /// `GET /orders/:id`: the order, with `confirmedAt` once its job has run.
    @Sendable func show(_ req: Request) async throws -> Order {
        guard let id = req.parameters.get("id", as: Int.self), let order = try await Order.find(id, on: req.db) else {
            throw Abort(.notFound)
        }
        return order
    }
}
