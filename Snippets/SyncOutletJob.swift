// A job is a Codable struct: its stored properties are its arguments. The handler returns
// a result, stored in porter.jobs.result; a thrown error is retried while attempts remain.
import Foundation
import Porter

struct SyncOutlet: Job {
    static let method = "stock.sync_outlet"
    var outlet: String
    var since: Date?
}

struct Synced: Codable, Sendable {
    var levels: Int
}

struct StockServiceDown: Error {}

// snippet.hide
func fetchLevels(for outlet: String) async throws -> [Int] { [] }
// snippet.show
var registry = JobRegistry()
registry.register(SyncOutlet.self) { job, context in
    context.logger.info("syncing", metadata: ["outlet": "\(job.outlet)", "attempt": "\(context.attempt)"])
    let levels = try await fetchLevels(for: job.outlet)  // throws StockServiceDown: retried
    return Synced(levels: levels.count)
}
let porter = try PorterClient(databaseURL: "postgresql://localhost/app", registry: registry)
let id = try await porter.enqueue(
    SyncOutlet(outlet: "SJ-0042", since: nil), options: EnqueueOptions(queue: "short", maxAttempts: 3)).id
// Later: the result as the handler returned it.
if let id, let record = try await porter.job(id: id), record.status == .finished {
    print(try record.result?.decode(Synced.self).levels ?? 0)
}
// In a test, `now` runs the handler in the caller instead of enqueueing it.
let inline = try await porter.enqueue(SyncOutlet(outlet: "SJ-0042"), options: EnqueueOptions(now: true))
print(inline)  // .ranInline(result:), with the handler's result
