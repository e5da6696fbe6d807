import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL server in a temporary directory, reachable on a unix socket.
///
/// `porter demo`, `porter bench` and the test suite start one when no database URL is given.
/// It runs Debian's PostgreSQL binaries (`/usr/lib/postgresql/NN/bin`, or `PORTER_PG_BIN`).
/// PostgreSQL refuses to run as root, so as root it runs as the `postgres` system user.
/// The server stops, and its directory is removed, when `stop()` is called or when the
/// process that started it exits, even by SIGKILL: a small watchdog process sees to that.
public final class EmbeddedPostgres: Sendable {
    /// The temporary directory holding the data directory, the socket and the log.
    public let directory: String
    /// The connection string for the `postgres` database as superuser `postgres`.
    public let connectionString: String
    /// The same as a `postgresql://` URL, for tools that only take URLs.
    public let url: String
    private let binDirectory: String
    private let runAsPostgresUser: Bool

    /// How the server trades durability for speed.
    public enum Durability: Sendable {
        /// PostgreSQL's defaults: fsync and synchronous_commit on. For benchmarks and demos.
        case durable
        /// fsync, synchronous_commit and full_page_writes off. For tests only.
        case fast
    }

    /// Creates a cluster with `initdb` and starts it. Takes about two seconds.
    public static func start(
        durability: Durability = .durable,
        maxConnections: Int = 200,
        logger: Logger = Logger(label: "porter.embedded-postgres")
    ) throws -> EmbeddedPostgres {
        let bin = try findBinDirectory()
        let runAsPostgresUser = geteuid() == 0
        var template = Array("/tmp/porter-pg-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else {
            throw EmbeddedPostgresError("could not create a temporary directory: \(String(cString: strerror(errno)))")
        }
        let directory = String(cString: created)
        let log = directory + "/server.log"
        if runAsPostgresUser {
            guard let account = getpwnam("postgres") else {
                throw EmbeddedPostgresError(
                    "PostgreSQL refuses to run as root and there is no `postgres` user to run it as; install Debian's postgresql package (apt-get install -y postgresql) or run as another user")
            }
            chown(directory, account.pointee.pw_uid, account.pointee.pw_gid)
        }
        func command(_ arguments: [String]) -> [String] {
            runAsPostgresUser ? ["runuser", "-u", "postgres", "--"] + arguments : arguments
        }

        logger.debug("initdb", metadata: ["directory": "\(directory)"])
        let initStatus = try ChildProcess.run(
            command([bin + "/initdb", "-D", directory + "/data", "-U", "postgres", "--auth=trust",
                     "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]),
            outputPath: runAsPostgresUser ? "/dev/null" : log)
        guard initStatus == 0 else {
            throw EmbeddedPostgresError("initdb failed with status \(initStatus); see \(log)")
        }

        var settings = [
            "-k", directory, "-c", "listen_addresses=", "-p", "5432",
            "-c", "max_connections=\(maxConnections)", "-c", "shared_buffers=128MB",
        ]
        if durability == .fast {
            settings += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        }
        let startStatus = try ChildProcess.run(
            command([bin + "/pg_ctl", "-D", directory + "/data", "-l", log, "-w", "-t", "60",
                     "-o", settings.map(shellQuote).joined(separator: " "), "start"]),
            newSession: true)
        guard startStatus == 0 else {
            let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? ""
            throw EmbeddedPostgresError("pg_ctl start failed with status \(startStatus): \(tail)")
        }

        // The watchdog stops the server and removes the directory once our process is gone.
        let stopCommand = command([bin + "/pg_ctl", "-D", directory + "/data", "-m", "immediate", "stop"])
            .map(shellQuote).joined(separator: " ")
        let watchdog = "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(stopCommand) >/dev/null 2>&1; rm -rf \(shellQuote(directory))"
        _ = try ChildProcess.spawn(["sh", "-c", watchdog], newSession: true)

        return EmbeddedPostgres(directory: directory, binDirectory: bin, runAsPostgresUser: runAsPostgresUser)
    }

    private init(directory: String, binDirectory: String, runAsPostgresUser: Bool) {
        self.directory = directory
        self.binDirectory = binDirectory
        self.runAsPostgresUser = runAsPostgresUser
        self.connectionString = "host=\(directory) port=5432 user=postgres dbname=postgres"
        let encoded = directory.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~"))) ?? directory
        self.url = "postgresql://postgres@/postgres?host=\(encoded)&port=5432"
    }

    /// The configuration for database `database` on this server.
    public func configuration(database: String = "postgres") throws -> PQConfiguration {
        try PQConfiguration("host=\(directory) port=5432 user=postgres dbname=\(database)")
    }

    /// Stops the server now and removes its directory.
    public func stop() {
        let prefix = runAsPostgresUser ? ["runuser", "-u", "postgres", "--"] : []
        _ = try? ChildProcess.run(prefix + [binDirectory + "/pg_ctl", "-D", directory + "/data", "-m", "fast", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `PORTER_PG_BIN`, else the newest `/usr/lib/postgresql/NN/bin`, else `initdb` on PATH.
    package static func findBinDirectory() throws -> String {
        let fileManager = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["PORTER_PG_BIN"] {
            return explicit
        }
        let versions = (try? fileManager.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            let bin = "/usr/lib/postgresql/\(version)/bin"
            if fileManager.isExecutableFile(atPath: bin + "/initdb") { return bin }
        }
        for path in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            if fileManager.isExecutableFile(atPath: "\(path)/initdb") { return String(path) }
        }
        throw EmbeddedPostgresError(
            "no PostgreSQL server binaries found (looked in PORTER_PG_BIN, /usr/lib/postgresql/*/bin and PATH); install them with: apt-get install -y postgresql")
    }
}

/// Why the embedded server could not start; the message says what to install or check.
public struct EmbeddedPostgresError: Error, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

func shellQuote(_ text: String) -> String {
    if !text.isEmpty && text.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:".contains($0) }) { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
