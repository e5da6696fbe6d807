import Vapor

/// The body of `POST /orders`.
struct NewOrder: Content {
    var customer: String
    var items: Int
    /// The client's idempotency key: the confirmation job's `job_id` is `confirm-<reference>`,
    /// enqueued with `deduplicate`, so the same order sent twice is refused the second time.
    var reference: String?
}
