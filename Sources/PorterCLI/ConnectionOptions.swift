import ArgumentParser
import Foundation
import Logging
import Porter
import PorterPostgres

/// The connection options every database command shares.
package struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: "PostgreSQL URL or conninfo string. Default: PORTER_DATABASE_URL, else DATABASE_URL, else libpq's PG* variables when one is set, else the development server (porter dev).")
    package var databaseURL: String?

    package init() {}

    /// The URL given by flag or environment, or nil when none is: then libpq's defaults apply
    /// (or, for the demo and benchmarks, an embedded server).
    package var configuredURL: String? {
        if let databaseURL { return databaseURL }
        let environment = ProcessInfo.processInfo.environment
        for name in ["PORTER_DATABASE_URL", "DATABASE_URL"] {
            if let value = environment[name], !value.isEmpty { return value }
        }
        return nil
    }

    /// libpq's variables that name a server or database: when one is set, libpq's defaults
    /// are the configuration.
    static let libpqVariables = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"]

    /// The database a command works on: the configured URL; else libpq's defaults when a `PG*`
    /// variable says where; else the development server (`porter dev`), started (and created,
    /// the first time) when it is not running, with a note on stderr.
    package func resolvedURL() throws -> String {
        if let configuredURL { return configuredURL }
        let environment = ProcessInfo.processInfo.environment
        if Self.libpqVariables.contains(where: { environment[$0].map { !$0.isEmpty } ?? false }) { return "" }
        let server = DevelopmentServer.locate()
        let outcome: DevelopmentServer.StartOutcome
        do {
            outcome = try server.start()
        } catch {
            throw CommandFailure(
                message: "no database is configured (--database-url, PORTER_DATABASE_URL, DATABASE_URL or PG* variables), and the development server could not start: \(error)")
        }
        switch outcome {
        case .created:
            note("no database configured: created a development PostgreSQL in \(DevCommand.shown(server.directory)); `porter dev stop` stops it")
        case .started:
            note("no database configured: started the development PostgreSQL in \(DevCommand.shown(server.directory)); `porter dev stop` stops it")
        case .alreadyRunning:
            break
        }
        return server.connectionString
    }

    /// A client on the command's database (see `resolvedURL()`).
    package func makeClient(maximumConnections: Int = 4, logger: Logger = Logger(label: "porter")) throws -> PorterClient {
        try PorterClient(databaseURL: try resolvedURL(), maximumConnections: maximumConnections, logger: logger)
    }
}

/// Prints an error the way every command does and exits non-zero.
package struct CommandFailure: Error, CustomStringConvertible {
    package var message: String
    package var description: String { message }

    package init(message: String) { self.message = message }
}

/// A logger for a command that prints its own results: `level` and above only, unless
/// `PORTER_LOG_LEVEL` asks for more.
package func commandLogger(label: String = "porter", level: Logger.Level) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = ProcessInfo.processInfo.environment["PORTER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? level
    return logger
}
