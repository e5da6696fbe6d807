import ArgumentParser
import Porter

/// `porter migrate`: applies missing migrations; safe to run from several processes at once.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Create or update Porter's schema (idempotent, safe to run concurrently).")

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        // The command prints each migration it applies; the library's log of the same would
        // say it twice.
        let porter = try connection.makeClient(maximumConnections: 1, logger: commandLogger(level: .warning))
        let applied = try await porter.migrate()
        await porter.close()
        if applied.isEmpty {
            print("porter schema is up to date (\(Migration.all.count) migrations)")
        } else {
            for migration in applied { print("applied \(migration.version) \(migration.name)") }
        }
    }
}
