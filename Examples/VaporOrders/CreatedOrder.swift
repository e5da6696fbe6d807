import Vapor

/// The answer to `POST /orders`: the order's id and its job's (`porter.jobs.id`).
struct CreatedOrder: Content {
    var id: Int
    var job: Int64?
}
