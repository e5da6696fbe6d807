import FluentPostgresDriver
import PorterPostgres
import PorterPostgresNIO

extension SQLPostgresConfiguration {
    /// Fluent's settings for the server, database and user a Porter connection string names,
    /// read as libpq reads it (PorterPostgresNIO's `PostgresClient.Configuration(_:)`), so that
    /// one `PORTER_DATABASE_URL` configures both Fluent and Porter. A Unix socket stays one; a
    /// TCP URL is handed to Fluent as it is (it reads `sslmode`), and a `key=value` string
    /// over TCP prefers TLS without checking the certificate, as libpq's default does.
    init(_ settings: PQConfiguration) throws {
        let client = try PostgresClient.Configuration(settings)
        if let socket = client.unixSocketPath {
            self.init(
                unixDomainSocketPath: socket, username: client.username, password: client.password, database: client.database)
        } else if settings.connectionString.contains("://") {
            try self.init(url: settings.connectionString)
        } else {
            var unverified = TLSConfiguration.makeClientConfiguration()
            unverified.certificateVerification = .none
            self.init(
                hostname: client.host ?? "localhost", port: client.port ?? Self.ianaPortNumber, username: client.username,
                password: client.password, database: client.database, tls: .prefer(try NIOSSLContext(configuration: unverified)))
        }
    }
}
