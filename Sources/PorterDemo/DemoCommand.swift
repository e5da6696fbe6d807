import ArgumentParser
import PorterCLI

/// `porter demo`: ScoopJoy's stock sync end to end (the default), or the transactional
/// enqueue on its own (`porter demo orders`).
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run Porter's end-to-end demo (on a throwaway PostgreSQL unless a database URL is configured).",
        subcommands: [StockSyncDemoCommand.self, OrdersDemoCommand.self, DemoWorkerCommand.self],
        defaultSubcommand: StockSyncDemoCommand.self)
}
