import FluentKit
import Porter
import PostgresNIO

extension Database {
    /// Runs `body` on the PostgreSQL connection under this Fluent database: inside
    /// `transaction { db in ... }` the transaction's own connection (Fluent's PostgreSQL driver
    /// hands the connection that ran `BEGIN` to everything the transaction's `db` runs), outside
    /// one a connection from the pool for this one call.
    ///
    /// A database that is not a postgres-nio `PostgresDatabase` is refused with
    /// `PorterError.Code.invalidArgument(parameter: "database")`: another engine (SQLite, MySQL),
    /// Fluent's `PostgresClient`-backed configurations (`.postgres(configuration:
    /// PostgresClient.Configuration, ...)` and `.postgres(client:...)`, which its driver documents
    /// as "not castable to a `PostgresDatabase`"), or a database wrapped by `logging(to:)`.
    func withPorterConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        guard let postgres = self as? any PostgresDatabase else {
            throw PorterError(
                code: .invalidArgument(parameter: "database"),
                message: "PorterFluent enqueues on Fluent's PostgreSQL driver, but this database (\(type(of: self))) is not a PostgresDatabase; configure it with app.databases.use(.postgres(configuration: SQLPostgresConfiguration(...)), as: .psql) or .postgres(url:), not with a PostgresClient (.postgres(client:) and .postgres(configuration: PostgresClient.Configuration) hide their connection), and call enqueue on req.db or the transaction's db itself rather than on a logging(to:) wrapper")
        }
        // postgres-nio's `withConnection` speaks futures; the body runs as a task on the
        // connection's event loop and the future completes with it, so the connection is
        // handed back (outside a transaction) only when the body is done.
        return try await postgres.withConnection { connection in
            connection.eventLoop.makeFutureWithTask { try await body(connection) }
        }.get()
    }
}
