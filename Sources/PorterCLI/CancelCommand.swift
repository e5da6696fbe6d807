import ArgumentParser
import Porter

/// `porter cancel ID`: cancels a waiting job, or asks a running one to stop. `porter cancel
/// --queued [filters]`: every waiting job that matches, in batches.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a queued job, or ask the worker running it to stop it; or every queued job that matches (--queued).",
        discussion: """
            --queued (and --scheduled, --deferred) works in batches of 1,000 jobs, each its own \
            transaction, while workers run, and prints how many jobs it canceled. Jobs enqueued \
            after it started are left alone; a job a worker is claiming at that moment runs.
            """)

    @Argument(help: "The job's id.")
    var id: Int64?

    @Flag(help: "Cancel every queued job that matches the filters.")
    var queued = false

    @Flag(help: "Cancel every scheduled job (a future run_at, or a retry in backoff) that matches the filters.")
    var scheduled = false

    @Flag(help: "Cancel every deferred job (waiting for its depends_on) that matches the filters.")
    var deferred = false

    @OptionGroup var filters: BulkFilters

    @OptionGroup var connection: ConnectionOptions

    private var statuses: [JobStatus] {
        [(JobStatus.queued, queued), (.scheduled, scheduled), (.deferred, deferred)].filter(\.1).map(\.0)
    }

    func validate() throws {
        if id != nil && (!statuses.isEmpty || filters.given) {
            throw ValidationError("give a job's id, or --queued (--scheduled, --deferred) with filters, not both.")
        }
        if id == nil && statuses.isEmpty {
            throw ValidationError("give a job's id, or --queued to cancel every queued job (with --queue, --method).")
        }
    }

    func run() async throws {
        let porter = try connection.makeClient(maximumConnections: 1)
        if let id {
            switch try await porter.cancel(id: id) {
            case .canceled: print("job \(id) canceled")
            case .requested: print("job \(id) is running; its worker was asked to stop it")
            }
            return
        }
        for status in statuses {
            let count = try await porter.cancelJobs(filters.selection(status))
            print("canceled \(count) \(status.rawValue) \(count == 1 ? "job" : "jobs")")
        }
    }
}
