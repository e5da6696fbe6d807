import Foundation
import Logging
import Porter
import PorterPostgres
import PorterTesting

/// LOGIN roles made for one test database, named after it (roles belong to the whole server,
/// which the tests share), and clients that connect as them.
struct TestRoles: Sendable {
    let database: TestDatabase
    /// The server's superuser, who made the database.
    let admin: PorterClient
    /// Every role made, by the name the test gave it.
    private(set) var names: [String: String] = [:]

    /// Every role gets this password, so that a server that asks for one
    /// (PORTER_TEST_DATABASE_URL) lets them in as the test server's trust does.
    static let password = "porter-test"

    init(_ database: TestDatabase) {
        self.database = database
        // Few connections each: the whole suite shares one server's max_connections.
        self.admin = database.makeClient(maximumConnections: 2)
    }

    /// Creates LOGIN role `name` (suffixed with the database's name) with `options`, e.g.
    /// `NOSUPERUSER`; returns its full name.
    @discardableResult
    mutating func create(_ name: String, options: String = "") async throws -> String {
        let role = "\(name)_\(database.name)"
        try await admin.pool.query(
            "CREATE ROLE \(identifier: role) LOGIN PASSWORD '\(unsafeRaw: Self.password)' \(unsafeRaw: options)")
        names[name] = role
        return role
    }

    /// The role's full name.
    func role(_ name: String) -> String { names[name] ?? name }

    /// How to connect to the database as the role.
    func configuration(_ name: String) throws -> PQConfiguration {
        try PQConfiguration(database.connectionString + " user='\(role(name))' password='\(Self.password)'")
    }

    /// A Porter client that connects as the role.
    func client(_ name: String, registry: JobRegistry = JobRegistry(), maximumConnections: Int = 3) throws -> PorterClient {
        var logger = Logger(label: "porter.test.\(name)")
        logger.logLevel = .warning
        return PorterClient(
            pool: PQPool(try configuration(name), maximumConnections: maximumConnections, logger: logger), registry: registry, logger: logger)
    }

    /// Drops the database and then the roles, which own nothing elsewhere.
    func dropAll() async {
        await admin.close()
        try? await database.drop()
        guard let configuration = try? database.configuration.withDatabase("postgres") else { return }
        let server = PQPool(configuration, maximumConnections: 1)
        for role in names.values {
            _ = try? await server.query("DROP ROLE IF EXISTS \(identifier: role)")
        }
        await server.close()
    }
}
