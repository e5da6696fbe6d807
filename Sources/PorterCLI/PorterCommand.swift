import ArgumentParser
import Porter

/// Porter's command line, as a library: `porter` is `PorterCLI.main()`, and a user's own
/// executable registers its Swift jobs first and gets the same commands:
///
/// ```swift
/// var registry = JobRegistry()
/// registry.register(GenerateReport.self) { job, context in ... }
/// await PorterCLI.main(registry: registry)
/// ```
public enum PorterCLI {
    /// The handlers `porter worker` runs. Set once by `main(registry:)` before parsing.
    nonisolated(unsafe) static var registry = JobRegistry()

    /// The `porter` executable's HTTP servers (the metrics endpoint and the dashboard), set by
    /// its main before `main(registry:)`; nil in an executable built on PorterCLI alone.
    nonisolated(unsafe) package static var web: (any WebServices)?

    /// Parses the command line and runs the command, with these handlers registered.
    public static func main(registry: JobRegistry = JobRegistry()) async {
        self.registry = registry
        await PorterCommand.main()
    }
}

/// The root command: migrate, enqueue and inspect jobs, run workers, the demo and benchmarks.
struct PorterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "porter",
        abstract: "Porter: a transactional background-job queue on PostgreSQL.",
        discussion: """
            The database comes from --database-url, else PORTER_DATABASE_URL, else DATABASE_URL, \
            else libpq's defaults (PGHOST, PGPORT, PGUSER, PGDATABASE, ...). `porter demo` and \
            `porter bench` start a throwaway PostgreSQL when none of the three is set.
            """,
        subcommands: [
            DemoCommand.self, MigrateCommand.self, EnqueueCommand.self, JobsCommand.self, JobCommand.self,
            WorkerCommand.self, SchedulerCommand.self, ScheduleCommand.self, RetryCommand.self, CancelCommand.self,
            WatchCommand.self, StatsCommand.self, WorkersCommand.self, PauseCommand.self, ResumeCommand.self,
            DeleteCommand.self, DashboardCommand.self,
            BenchCommand.self,
        ])
}
