import Foundation
import Hummingbird
import Logging
import Porter
import PorterPostgres
import PorterPostgresNIO
import PostgresNIO
import ServiceLifecycle

/// `/orders`: create an order with its job, read it with the job's status, and stream the
/// job's progress.
struct OrdersController: Sendable {
    let postgres: PostgresClient
    let realtime: RealtimeListener
    let logger: Logger

    func addRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.post(use: create)
        group.get(":id", use: show)
        group.get(":id/events", use: events)
    }

    /// `POST /orders {"customer": "...", "items": 3}`: the order row and its confirmation job
    /// commit in one transaction, or neither exists. 201 with `{"id", "job"}`.
    @Sendable func create(_ request: Request, context: BasicRequestContext) async throws -> EditedResponse<CreatedOrder> {
        let order = try await request.decode(as: NewOrder.self, context: context)
        guard order.items > 0, !order.customer.isEmpty else {
            throw HTTPError(.badRequest, message: "an order needs a customer and at least one item")
        }
        let logger = logger
        let created = try await postgres.withTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                "INSERT INTO orders (customer, items) VALUES (\(order.customer), \(order.items)) RETURNING id", logger: logger)
            guard let id = try await rows.collect().first?.decode(Int.self) else {
                throw HTTPError(.internalServerError)
            }
            let result = try await connection.enqueue(
                SendConfirmation(orderID: id),
                options: EnqueueOptions(queue: "short", jobID: "confirm-\(id)", deduplicate: true), logger: logger)
            try await connection.query("UPDATE orders SET job = \(result.id) WHERE id = \(id)", logger: logger)
            return CreatedOrder(id: id, job: result.id)
        }
        return EditedResponse(status: .created, response: created)
    }

    /// `GET /orders/:id`: the order and where its job stands.
    @Sendable func show(_ request: Request, context: BasicRequestContext) async throws -> OrderStatus {
        let id = try context.parameters.require("id", as: Int.self)
        guard let order = try await OrderStatus.load(id: id, from: postgres, logger: logger) else {
            throw HTTPError(.notFound, message: "no order \(id)")
        }
        return order
    }

    /// `GET /orders/:id/events`: server-sent events of the order's job, from Porter's
    /// `porter_realtime` channel. First `status` (the job as it stands, with its stored
    /// progress), then each `progress` and state event as it happens; the stream ends when
    /// the job does (`finished`, `failed` or `canceled`), or when the app shuts down.
    @Sendable func events(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try context.parameters.require("id", as: Int.self)
        guard let jobID = try await OrderStatus.load(id: id, from: postgres, logger: logger)?.job?.id else {
            throw HTTPError(.notFound, message: "no order \(id)")
        }
        // Subscribed before the job's state is read, so nothing that happens after the read
        // is missed; on graceful shutdown the stream ends, so the server need not wait for it.
        let events = realtime.events(job: jobID).cancelOnGracefulShutdown()
        guard let current = try await OrderStatus.load(id: id, from: postgres, logger: logger)?.job else {
            throw HTTPError(.notFound, message: "no order \(id)")
        }
        let body = ResponseBody { writer in
            try await writer.write(ServerSentEvent(event: "status", data: current.json).buffer)
            if !JobView.endStatuses.contains(current.status) {
                for try await event in events {
                    try await writer.write(ServerSentEvent(event: event.event, data: event.message.text).buffer)
                    if JobView.endStatuses.contains(event.event) { break }
                }
            }
            try await writer.finish(nil)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: body)
    }
}
