// A job that publishes its progress, and a listener that follows it.
import Porter

// snippet.hide
struct SyncStock: Job {
    static let method = "stock.sync"
    var outlets: [String]
}
var registry = JobRegistry()
let porter = try PorterClient(databaseURL: "postgresql://localhost/app", registry: registry)
let jobID: Int64 = 42
// snippet.show
registry.register(SyncStock.self) { job, context in
    for (index, outlet) in job.outlets.enumerated() {
        // ... sync one outlet ...
        try await context.publishProgress(percent: Double(index + 1) * 100 / Double(job.outlets.count),
                                          title: "Syncing stock", description: outlet)
    }
}
let realtime = RealtimeListener(client: porter)
try await realtime.start()
for await event in realtime.events(job: jobID) { print(event.event, event.progress?.percent ?? 0) }
