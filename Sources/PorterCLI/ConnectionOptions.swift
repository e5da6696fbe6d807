import ArgumentParser
import Foundation
import Logging
import Porter
import PorterPostgres

/// The connection options every database command shares.
package struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: "PostgreSQL URL or conninfo string. Default: PORTER_DATABASE_URL, else DATABASE_URL, else libpq's PG* defaults.")
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

    /// A client on the configured database, or on libpq's defaults.
    package func makeClient(maximumConnections: Int = 4, logger: Logger = Logger(label: "porter")) throws -> PorterClient {
        try PorterClient(databaseURL: configuredURL ?? "", maximumConnections: maximumConnections, logger: logger)
    }
}

/// Prints an error the way every command does and exits non-zero.
package struct CommandFailure: Error, CustomStringConvertible {
    package var message: String
    package var description: String { message }

    package init(message: String) { self.message = message }
}
