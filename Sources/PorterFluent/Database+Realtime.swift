import FluentKit
import Porter
import PorterPostgres
import PorterPostgresNIO

extension Database {
    /// Publishes a realtime event on this database's connection (Frappe's `publish_realtime`),
    /// through `porter.publish_realtime`: delivered on `porter_realtime` when the caller's
    /// transaction commits, never if it rolls back. A `RealtimeListener` receives it.
    public func publishRealtime(event: String, message: PQJSON = PQJSON(text: "{}"), job: Int64? = nil) async throws {
        let logger = self.logger
        try await withPorterConnection { connection in
            try await connection.publishRealtime(event: event, message: message, job: job, logger: logger)
        }
    }
}
