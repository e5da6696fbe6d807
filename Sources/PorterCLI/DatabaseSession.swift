import Foundation
import Logging
import PorterPostgres

/// The database a demo or benchmark runs on: the configured one, or an embedded throwaway
/// server started for the run and stopped after it.
package struct DatabaseSession {
    package let configuration: PQConfiguration
    package let embedded: EmbeddedPostgres?

    /// Uses the configured URL, else starts an embedded server with durable settings.
    package static func start(_ options: ConnectionOptions, announce: Bool = true) throws -> DatabaseSession {
        if let url = options.configuredURL {
            return DatabaseSession(configuration: try PQConfiguration(url), embedded: nil)
        }
        if announce { say("No database URL configured: starting a throwaway PostgreSQL...") }
        let server = try EmbeddedPostgres.start(durability: .durable)
        if announce { say("  running in \(server.directory) (removed on exit)") }
        return DatabaseSession(configuration: try server.configuration(), embedded: server)
    }

    package func stop() {
        embedded?.stop()
    }
}
