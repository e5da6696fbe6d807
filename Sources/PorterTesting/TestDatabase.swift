import Foundation
import Logging
import Porter
import PorterPostgres

/// A fresh, migrated database for one test, on a real PostgreSQL server.
///
/// The server is `PORTER_TEST_DATABASE_URL` when set (its user needs CREATEDB), else a
/// throwaway `EmbeddedPostgres` that this process starts once, with fsync off, and that stops
/// when the process exits. Each database is a copy of a template migrated once, so tests can
/// run in parallel without seeing each other's jobs.
///
/// ```swift
/// @Test func enqueueCommitsWithTheTransaction() async throws {
///     let database = try await TestDatabase.create()
///     defer { database.dropLater() }
///     let porter = database.makeClient()
///     ...
/// }
/// ```
public struct TestDatabase: Sendable {
    /// The database's name.
    public let name: String
    /// How to connect to it.
    public let configuration: PQConfiguration

    /// The connection string, for tools and subprocesses (`porter --database-url`).
    public var connectionString: String { configuration.connectionString }

    /// Creates a database; migrated unless `migrated` is false.
    public static func create(migrated: Bool = true) async throws -> TestDatabase {
        try await TestServer.shared.createDatabase(migrated: migrated)
    }

    /// A Porter client with its own pool on this database. `queues` are those `now` runs take
    /// their timeouts from; give it the workers' under test.
    public func makeClient(
        maximumConnections: Int = 10, registry: JobRegistry = JobRegistry(),
        queues: [String: QueueConfiguration] = QueueConfiguration.builtIn
    ) -> PorterClient {
        PorterClient(
            pool: PQPool(configuration, maximumConnections: maximumConnections, logger: TestServer.logger),
            registry: registry, queues: queues, logger: TestServer.logger)
    }

    /// A new connection to this database.
    public func connect() async throws -> PQConnection {
        try await PQConnection.connect(configuration, logger: TestServer.logger)
    }

    /// Drops the database, ending its remaining sessions first.
    public func drop() async throws {
        try await TestServer.shared.dropDatabase(name)
    }
}

/// The server the test databases live on, started or connected once per process.
actor TestServer {
    static let shared = TestServer()
    static let logger = Logger(label: "porter.testing")

    private var startup: Task<PQConfiguration, any Error>?
    private var server: EmbeddedPostgres?
    private var template: Task<String, any Error>?
    private var counter = 0

    /// The server's admin configuration. Started once: concurrent callers share one startup task.
    private func adminConfiguration() async throws -> PQConfiguration {
        if let startup { return try await startup.value }
        let startup = Task { () async throws -> PQConfiguration in
            if let url = ProcessInfo.processInfo.environment["PORTER_TEST_DATABASE_URL"], !url.isEmpty {
                return try PQConfiguration(url)
            }
            // initdb and start take about two seconds; keep them off the cooperative pool.
            // Tests run in parallel, each with its pools and workers (a worker alone holds
            // its pool, a listener, its session and a maintenance connection). The suite's peak
            // passed 500 once tests connected as several roles each; 1,000 leaves headroom.
            let server = try await offPool { try EmbeddedPostgres.start(durability: .fast, maxConnections: 1000) }
            self.keep(server)
            return try server.configuration()
        }
        self.startup = startup
        return try await startup.value
    }

    private func keep(_ server: EmbeddedPostgres) {
        self.server = server
    }

    /// The migrated template database's name. Made once: concurrent callers share one task.
    private func migratedTemplate(_ admin: PQConfiguration) async throws -> String {
        if let template { return try await template.value }
        let template = Task { () async throws -> String in
            let name = "porter_test_template_\(getpid())"
            _ = try await Self.withAdmin(admin) { connection in
                try await connection.execute("DROP DATABASE IF EXISTS \(PQQuery.quoteIdentifier(name))")
                try await connection.execute("CREATE DATABASE \(PQQuery.quoteIdentifier(name))")
            }
            let connection = try await PQConnection.connect(try admin.withDatabase(name), logger: Self.logger)
            try await Migrator(logger: Self.logger).migrate(on: connection)
            await connection.close()
            return name
        }
        self.template = template
        return try await template.value
    }

    func createDatabase(migrated: Bool) async throws -> TestDatabase {
        let admin = try await adminConfiguration()
        let source = migrated ? try await migratedTemplate(admin) : "template1"
        counter += 1
        let name = "porter_test_\(getpid())_\(counter)"
        _ = try await Self.withAdmin(admin) { connection in
            try await connection.execute("DROP DATABASE IF EXISTS \(PQQuery.quoteIdentifier(name))")
            try await connection.execute(
                "CREATE DATABASE \(PQQuery.quoteIdentifier(name)) TEMPLATE \(PQQuery.quoteIdentifier(source))")
        }
        return TestDatabase(name: name, configuration: try admin.withDatabase(name))
    }

    func dropDatabase(_ name: String) async throws {
        let admin = try await adminConfiguration()
        _ = try await Self.withAdmin(admin) { connection in
            try await connection.execute("DROP DATABASE IF EXISTS \(PQQuery.quoteIdentifier(name)) WITH (FORCE)")
        }
    }

    private static func withAdmin<T: Sendable>(
        _ admin: PQConfiguration, _ body: (PQConnection) async throws -> T
    ) async throws -> T {
        let connection = try await PQConnection.connect(admin, logger: Self.logger)
        do {
            let value = try await body(connection)
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }
}

/// Runs blocking work on a thread of its own and awaits it: the cooperative pool has one
/// thread per core, and blocking two of them (initdb, pg_ctl, waiting for a process) stalls
/// every task of the process.
package func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.start()
    }
}
