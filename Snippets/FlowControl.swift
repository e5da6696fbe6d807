// Flow control from Swift: one stock sync per franchise at a time, the SMS provider's rate
// limit, and a debounced reindex. The limits are rows in the database, held by every worker.
import Foundation
import Porter

struct SyncFranchiseStock: Job {
    static let method = "stock.sync_franchise"
    var franchise: Int
}

struct SendSMS: Job {
    static let method = "sms.send"
    var to: String
    var text: String
}

struct ReindexOutlet: Job {
    static let method = "search.reindex_outlet"
    var outlet: String
}

// snippet.hide
func limits() async throws {
// snippet.show
let porter = try PorterClient(databaseURL: "postgresql://localhost/app")
// At most one sync running per franchise, across every worker and host.
try await porter.setLimit(QueueLimit(queue: "stock", eachKey: true, maxRunning: 1))
try await porter.enqueue(
    SyncFranchiseStock(franchise: 42), options: EnqueueOptions(queue: "stock", limitKey: "franchise:42"))
// No more than 100 messages in any minute.
try await porter.setLimit(QueueLimit(queue: "sms", maxStarts: 100, perSeconds: 60))
try await porter.enqueue(SendSMS(to: "+6591234567", text: "Your order is ready"), options: EnqueueOptions(queue: "sms"))
// Reindex when the edits stop, but never later than a minute after the first.
try await porter.enqueue(
    ReindexOutlet(outlet: "SJ-0042"),
    options: EnqueueOptions(jobID: "reindex:SJ-0042", debounce: .seconds(5), debounceMax: .seconds(60)))
// What runs against each limit, and what waits because of it.
for limit in try await porter.stats().limits {
    print(limit.limit.queue, limit.limit.scope, limit.running, limit.waiting)
}
// snippet.hide
}
// snippet.show
