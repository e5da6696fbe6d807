import Logging
import Porter
import PorterPostgres
import PostgresNIO

extension PostgresConnection {
    /// Publishes a realtime event on this connection (Frappe's `publish_realtime`), through
    /// `porter.publish_realtime`: delivered on `porter_realtime` when the caller's
    /// transaction commits, never if it rolls back. A `RealtimeListener` receives it.
    public func publishRealtime(
        event: String, message: PQJSON = PQJSON(text: "{}"), job: Int64? = nil, logger: Logger
    ) async throws {
        _ = try await porterQuery(RealtimeQueries.publish(event: event, message: message, job: job), jobID: nil, logger: logger) { _ in () }
    }
}
