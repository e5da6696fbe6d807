import Hummingbird

/// The answer to `POST /orders`: the order's id and its job's (`porter.jobs.id`).
struct CreatedOrder: ResponseCodable {
    var id: Int
    var job: Int64?
}
