// Queues split across PostgreSQL clusters: the app holds one client per cluster and picks
// each job's by its queue.
import Porter

// snippet.hide
struct SendConfirmation: Job {
    static let method = "orders.send_confirmation"
    var orderID: Int
}
let id = 7
// snippet.show
struct QueueRouter {
    let home: [String: PorterClient]          // queue -> its cluster's client
    let fallback: PorterClient                // queues not listed
    func client(for queue: String) -> PorterClient { home[queue] ?? fallback }
}
// snippet.hide
let router = try QueueRouter(
    home: ["emails": PorterClient(databaseURL: "postgresql://mail-db/app")],
    fallback: PorterClient(databaseURL: "postgresql://localhost/app"))
// snippet.show
try await router.client(for: "emails").enqueue(SendConfirmation(orderID: id), options: EnqueueOptions(queue: "emails"))
