import Foundation
import PorterPostgres
import PorterTesting

/// A real PgBouncer (Debian's `pgbouncer`) in transaction pooling mode on a loopback port, in
/// front of the test PostgreSQL server; one per test process, started on first use and stopped
/// when the process exits.
///
/// Every database of the test server is reachable through it under its own name, each with a
/// pool of `poolSize` server sessions that all its clients share, transaction by transaction,
/// as in production. `outage(of:)` cuts one database off (PgBouncer's `DISABLE` and `KILL`),
/// and `restore(_:)` brings it back, as a failover behind PgBouncer would look to clients.
actor PgBouncer {
    static let shared = PgBouncer()
    /// Server sessions per database: few, so that clients really share them.
    static let poolSize = 4

    private struct Running: Sendable {
        var port: Int
        var directory: String
    }

    private var startup: Task<Running, any Error>?

    /// How to reach `database` through PgBouncer.
    func configuration(for database: TestDatabase) async throws -> PQConfiguration {
        let running = try await self.running()
        return try PQConfiguration("host=127.0.0.1 port=\(running.port) user=postgres dbname=\(database.name)")
    }

    /// Cuts `database` off: PgBouncer drops every client and server connection of it and
    /// refuses new ones until `restore`.
    func outage(of database: TestDatabase) async throws {
        try await admin("DISABLE \(database.name)", "KILL \(database.name)")
    }

    /// Ends an `outage`: new connections are accepted again.
    func restore(_ database: TestDatabase) async throws {
        try await admin("ENABLE \(database.name)", "RESUME \(database.name)")
    }

    /// Runs commands on PgBouncer's admin console (simple queries, which psql sends).
    private func admin(_ commands: String...) async throws {
        let running = try await self.running()
        let psql = try EmbeddedPostgres.findBinDirectory() + "/psql"
        let arguments = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "host=127.0.0.1 port=\(running.port) user=postgres dbname=pgbouncer"]
            + commands.flatMap { ["-c", $0] }
        let log = running.directory + "/admin.log"
        let status = try await TestDaemon.run(arguments, log: log)
        guard status == 0 else {
            throw TestDaemonError("PgBouncer admin \(commands) failed with status \(status): \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
    }

    private func running() async throws -> Running {
        if let startup { return try await startup.value }
        let startup = Task { try await Self.start() }
        self.startup = startup
        return try await startup.value
    }

    private static func start() async throws -> Running {
        let binary = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let binary else {
            throw TestDaemonError("pgbouncer is not installed; scripts/install-deps installs it (apt-get install -y pgbouncer)")
        }
        // The test server: where a probe database's connection goes.
        let probe = try await TestDatabase.create(migrated: false)
        let server = probe.configuration
        try await probe.drop()
        let directory = try TestDaemon.makeDirectory("porter-pgbouncer")
        var target = "host=\(server.setting("host") ?? "/tmp") port=\(server.setting("port") ?? "5432") user=\(server.setting("user") ?? "postgres")"
        if let password = server.setting("password") { target += " password=\(password)" }
        let port = try TestDaemon.freeLoopbackPort()
        let ini = """
            [databases]
            * = \(target)
            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = \(port)
            unix_socket_dir =
            auth_type = trust
            auth_file = \(directory)/users.txt
            admin_users = postgres
            pool_mode = transaction
            default_pool_size = \(poolSize)
            max_client_conn = 1000
            max_db_connections = 0
            logfile = \(directory)/pgbouncer.log
            pidfile = \(directory)/pgbouncer.pid
            ignore_startup_parameters = extra_float_digits
            """
        try ini.write(toFile: directory + "/pgbouncer.ini", atomically: true, encoding: .utf8)
        try #""postgres" """#.write(toFile: directory + "/users.txt", atomically: true, encoding: .utf8)
        try TestDaemon.chownToPostgres(directory + "/pgbouncer.ini")
        try TestDaemon.chownToPostgres(directory + "/users.txt")
        // -d: PgBouncer forks into the background once it listens; its pid is in the pidfile.
        let status = try await TestDaemon.run(TestDaemon.command([binary, "-d", directory + "/pgbouncer.ini"]), log: directory + "/start.log")
        guard status == 0 else {
            throw TestDaemonError("pgbouncer failed to start (status \(status)); see \(directory)/start.log and pgbouncer.log")
        }
        try TestDaemon.cleanUpAfterExit(
            // SIGKILL: Debian's 1.18 did not exit on SIGTERM or SIGINT once its server was gone.
            "kill -9 $(cat \(directory)/pgbouncer.pid) 2>/dev/null; rm -rf \(directory)")
        // Wait until it answers.
        let configuration = try PQConfiguration("host=127.0.0.1 port=\(port) user=postgres dbname=postgres")
        try await waitUntil(timeout: .seconds(20), "PgBouncer to accept connections") {
            guard let connection = try? await PQConnection.connect(configuration) else { return false }
            await connection.close()
            return true
        }
        return Running(port: port, directory: directory)
    }
}
