import Porter

/// The job an order enqueues: "send" its confirmation, then mark the order confirmed.
struct SendConfirmation: Job {
    static let method = "orders.send_confirmation"
    var orderID: Int
}
