import Foundation
import PorterPostgres
import PostgresNIO

extension PostgresClient.Configuration {
    /// postgres-nio settings for the server, database and user a Porter connection string
    /// names, so that an app configures one URL for both clients (`PORTER_DATABASE_URL`):
    ///
    /// ```swift
    /// let settings = try PQConfiguration(url)
    /// let postgres = PostgresClient(configuration: try .init(settings), backgroundLogger: logger)
    /// let porter = PorterClient(pool: PQPool(settings), registry: registry)
    /// ```
    ///
    /// The string is read as libpq reads it, URL or `key=value`, with libpq's `PG*`
    /// environment variables and defaults filling what it leaves out. A `host` that is a
    /// directory (`host=/run/postgresql`) is a Unix socket. `sslmode` `disable` and `allow`
    /// turn TLS off, `prefer` (libpq's default) and `require` try it without checking the
    /// certificate, as libpq does, and `verify-ca` and `verify-full` require a verified one.
    /// The first of several hosts is used; a password file (`passfile`) is not read.
    public init(_ configuration: PQConfiguration) throws {
        let settings = try configuration.resolvedSettings()
        let port = settings["port"].flatMap { Int($0.split(separator: ",").first ?? "") } ?? 5432
        let username = settings["user"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.currentUser
        let database = settings["dbname"].flatMap { $0.isEmpty ? nil : $0 } ?? username
        let password = settings["password"].flatMap { $0.isEmpty ? nil : $0 }
        let hostList = settings["hostaddr"].flatMap { $0.isEmpty ? nil : $0 } ?? settings["host"] ?? ""
        let host = hostList.split(separator: ",").first.map(String.init) ?? ""
        if host.isEmpty || host.hasPrefix("/") {
            let directory = host.isEmpty ? "/var/run/postgresql" : host
            self.init(
                unixSocketPath: "\(directory)/.s.PGSQL.\(port)", username: username, password: password, database: database)
        } else {
            var unverified = TLSConfiguration.makeClientConfiguration()
            unverified.certificateVerification = .none
            let tls: TLS =
                switch settings["sslmode"] ?? "prefer" {
                case "disable", "allow": .disable
                case "verify-ca", "verify-full": .require(.makeClientConfiguration())
                case "require": .require(unverified)
                default: .prefer(unverified)
                }
            self.init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        }
        if let name = settings["application_name"], !name.isEmpty {
            options.additionalStartupParameters.append(("application_name", name))
        }
    }

    /// libpq's default user: the operating-system user running the process.
    private static var currentUser: String {
        getpwuid(geteuid()).flatMap { String(cString: $0.pointee.pw_name) } ?? "postgres"
    }
}
