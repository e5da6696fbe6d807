import ArgumentParser

/// The `porter` executable: migrate, enqueue and inspect jobs, run the demo and benchmarks.
@main
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
            BenchCommand.self,
        ])
}
