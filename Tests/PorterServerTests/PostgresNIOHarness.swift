import Logging
import Porter
import PorterPostgres
import PorterPostgresNIO
import PorterTesting
import PostgresNIO

/// A logger for postgres-nio's client in tests: warnings only.
let testLogger: Logger = {
    var logger = Logger(label: "porter.test.postgres-nio")
    logger.logLevel = .warning
    return logger
}()

/// Runs `body` with a running postgres-nio client on the test database, as an app has one,
/// and stops the client afterwards.
func withPostgresClient<T: Sendable>(
    _ database: TestDatabase, _ body: @Sendable (PostgresClient) async throws -> T
) async throws -> T {
    let client = PostgresClient(configuration: try .init(database.configuration), backgroundLogger: testLogger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        return try await body(client)
    }
}

/// The error a postgres-nio transaction's closure threw, as postgres-nio hands it back.
func closureError(_ error: any Error) -> any Error {
    (error as? PostgresTransactionError)?.closureError ?? error
}
