// A request's span, the job it enqueues and the worker's span for each attempt, in one
// story: Porter stores the enqueue's W3C trace context with the job.
import Porter
import Tracing

// snippet.hide
struct SendConfirmation: Job {
    static let method = "orders.send_confirmation"
    var orderID: Int
}
let porter = try PorterClient(databaseURL: "postgresql://localhost/app")
let orderID = 7
// snippet.show
// The app bootstraps its tracer once, as usual (swift-otel's OTel.bootstrap(), say): Porter
// uses InstrumentationSystem.tracer unless PorterClient(tracer:) names another.
try await withSpan("POST /orders", ofKind: .server) { _ in
    try await porter.pool.withTransaction { transaction in
        try transaction.query("INSERT INTO orders (id) VALUES (\(orderID))")
        // A `send short` span, the request's child; its traceparent is stored with the job,
        // and the worker's `process short` span links to it.
        try await porter.enqueue(SendConfirmation(orderID: orderID), options: EnqueueOptions(queue: "short"), on: transaction)
    }
}
