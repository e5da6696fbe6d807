import ArgumentParser
import Porter

/// `porter delete --failed --older-than D [filters]`: deletes old ended jobs, in batches.
struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete failed (--failed), canceled or finished jobs that ended more than --older-than ago.",
        discussion: """
            Works in batches of 1,000 jobs, each its own transaction, while workers run, and \
            prints how many jobs it deleted. Maintenance already prunes by finished_retention and \
            failed_retention; this is for doing it sooner, or for one queue or method.
            """)

    @Flag(help: "Delete failed jobs.")
    var failed = false

    @Flag(help: "Delete canceled jobs.")
    var canceled = false

    @Flag(help: "Delete finished jobs.")
    var finished = false

    @Option(name: .customLong("older-than"), help: "Only jobs that ended more than this long ago: 30m, 12h, 7d.")
    var olderThan: String

    @OptionGroup var filters: BulkFilters

    @OptionGroup var connection: ConnectionOptions

    private var statuses: [JobStatus] {
        [(JobStatus.failed, failed), (.canceled, canceled), (.finished, finished)].filter(\.1).map(\.0)
    }

    func validate() throws {
        if statuses.isEmpty {
            throw ValidationError("say which jobs to delete: --failed, --canceled or --finished (with --older-than).")
        }
        _ = try AgeFlag.duration(olderThan, flag: "--older-than")
    }

    func run() async throws {
        let porter = try connection.makeClient(maximumConnections: 1)
        let age = try AgeFlag.duration(olderThan, flag: "--older-than")
        for status in statuses {
            let count = try await porter.deleteJobs(filters.selection(status), olderThan: age)
            print("deleted \(count) \(status.rawValue) \(count == 1 ? "job" : "jobs")")
        }
    }
}
