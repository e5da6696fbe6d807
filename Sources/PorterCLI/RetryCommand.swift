import ArgumentParser
import Foundation
import Porter

/// `porter retry ID`: requeues a failed or canceled job. `porter retry --failed [filters]`:
/// every failed job that matches, in batches.
struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Requeue a failed or canceled job, or every failed job that matches (--failed).",
        discussion: """
            A retried job gets fresh attempts; it waits as deferred while a parent (depends_on) \
            runs, and the dependants its failure canceled come back with it. --failed works in \
            batches of 1,000 jobs, each its own transaction, while workers run, and prints how \
            many jobs it requeued. It skips a job whose job_id an active job holds and a job \
            whose parent failed (retry the parent).
            """)

    @Argument(help: "The job's id.")
    var id: Int64?

    @Flag(help: "Retry every failed job that matches the filters.")
    var failed = false

    @Flag(help: "Retry every canceled job that matches the filters.")
    var canceled = false

    @OptionGroup var filters: BulkFilters

    @Option(help: "Only jobs that ended at or after this time: ISO 8601 (2026-12-01T09:00:00Z) or a span ago (30m, 2h, 7d).")
    var since: String?

    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        let bulk = failed || canceled
        if id != nil && (bulk || filters.given || since != nil) {
            throw ValidationError("give a job's id, or --failed (or --canceled) with filters, not both.")
        }
        if id == nil && !bulk {
            throw ValidationError("give a job's id, or --failed to retry every failed job (with --queue, --method, --since).")
        }
        if let since { _ = try AgeFlag.since(since) }
    }

    func run() async throws {
        let porter = try connection.makeClient(maximumConnections: 1)
        if let id {
            try await porter.retry(id: id)
            print("job \(id) is queued again")
            return
        }
        let after = try since.map { try AgeFlag.since($0) }
        for status in [JobStatus.failed, .canceled] where status == .failed ? failed : canceled {
            let count = try await porter.retryJobs(filters.selection(status, since: after))
            print("retried \(count) \(status.rawValue) \(count == 1 ? "job" : "jobs")")
        }
    }
}
