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

    /// Commands the `porter` executable adds beside the library's own (the demo and the
    /// benchmarks, which no product carries). Set once by `main(registry:adding:)`.
    nonisolated(unsafe) static var addedCommands: [any ParsableCommand.Type] = []

    /// The `porter` executable's HTTP servers (the metrics endpoint and the dashboard), set by
    /// its main before `main(registry:)`; nil in an executable built on PorterCLI alone.
    nonisolated(unsafe) package static var web: (any WebServices)?

    /// The `porter` executable's span exporter, set by its main before `main(registry:)`; nil
    /// in an executable built on PorterCLI alone, whose commands then trace with whatever
    /// tracer the process bootstrapped (none: nothing is traced).
    nonisolated(unsafe) package static var traceExport: (any TraceExport)?

    /// Parses the command line and runs the command, with these handlers registered.
    public static func main(registry: JobRegistry = JobRegistry()) async {
        await main(registry: registry, adding: [])
    }

    /// `main(registry:)` with more subcommands: the `porter` executable's demo and benchmarks.
    package static func main(registry: JobRegistry, adding commands: [any ParsableCommand.Type]) async {
        self.registry = registry
        self.addedCommands = commands
        await PorterCommand.main()
    }
}

/// The root command: migrate, enqueue and inspect jobs, run workers, and the commands the
/// executable adds (the `porter` executable's demo and benchmarks).
struct PorterCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "porter",
            abstract: "Porter: a transactional background-job queue on PostgreSQL.",
            discussion: """
                The database comes from --database-url, else PORTER_DATABASE_URL, else DATABASE_URL, \
                else libpq's PG* variables (PGHOST, PGPORT, PGUSER, PGDATABASE, ...) when one is set, \
                else the development server in .porter/ (see `porter dev`), started when needed.
                """ + (PorterCLI.addedCommands.isEmpty ? "" : """

                `porter demo` and `porter bench` start a throwaway PostgreSQL instead when no URL is set.
                """),
            subcommands: [
                MigrateCommand.self, EnqueueCommand.self, JobsCommand.self, JobCommand.self,
                WorkerCommand.self, SchedulerCommand.self, ScheduleCommand.self, RetryCommand.self, CancelCommand.self,
                WatchCommand.self, StatsCommand.self, WorkersCommand.self, PauseCommand.self, ResumeCommand.self,
                DeleteCommand.self, LimitCommand.self, DashboardCommand.self, DevCommand.self,
            ] + PorterCLI.addedCommands)
    }
}
