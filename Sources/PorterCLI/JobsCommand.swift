import ArgumentParser
import Foundation
import Porter

/// `porter jobs`: lists the newest jobs.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "List the newest jobs.")

    @Option(help: "Only jobs with this status: \(JobStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
    var status: String?

    @Option(help: "Only jobs in this queue.")
    var queue: String?

    @Option(help: "At most this many jobs, \(JobsCommand.limitRange.text).")
    var limit: Int = 50

    @Flag(help: "Print JSON lines instead of a table.")
    var json = false

    @OptionGroup var connection: ConnectionOptions

    /// More rows than this is a query for psql, not a listing.
    static let limitRange = FlagRange("--limit", 1...100_000)

    func validate() throws {
        if let status, JobStatus(rawValue: status) == nil {
            throw ValidationError(
                "unknown status \(status); use one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        try Self.limitRange.check(limit)
    }

    func run() async throws {
        let porter = try connection.makeClient(maximumConnections: 1)
        let jobs = try await porter.jobs(status: status.flatMap(JobStatus.init(rawValue:)), queue: queue, limit: limit)
        await porter.close()
        if json {
            for job in jobs { print(JobFormatting.json(job)) }
            return
        }
        print(JobFormatting.table(jobs))
    }
}

/// `porter job ID`: shows one job.
struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "job", abstract: "Show one job.")

    @Argument(help: "The job's id (porter.jobs.id).")
    var id: Int64

    @Flag(help: "Print JSON instead of fields.")
    var json = false

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let porter = try connection.makeClient(maximumConnections: 1)
        let job = try await porter.job(id: id)
        await porter.close()
        guard let job else {
            throw CommandFailure(message: "no job has id \(id); list jobs with `porter jobs`")
        }
        print(json ? JobFormatting.json(job) : JobFormatting.fields(job))
    }
}
