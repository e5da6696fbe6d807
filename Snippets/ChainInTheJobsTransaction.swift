// A job's last rows, the job it chains and its own `finished` commit together, or not at all.
import Porter

// snippet.hide
struct SyncStock: Job {
    static let method = "stock.sync"
    var run: Int
}
struct WriteReport: Job {
    static let method = "stock.write_report"
    var run: Int
}
var registry = JobRegistry()
// snippet.show
registry.register(SyncStock.self) { job, context in
    // ... chunks that commit on their own ...
    try await context.finish { transaction in
        try transaction.query("UPDATE app.sync_runs SET finished_at = now() WHERE id = \(job.run)")
        try await context.porter.enqueue(WriteReport(run: job.run),
            options: EnqueueOptions(queue: "short", jobID: "report-\(job.run)", deduplicate: true), on: transaction)
    }
}
