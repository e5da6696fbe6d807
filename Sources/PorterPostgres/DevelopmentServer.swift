import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL server for trying Porter on a machine that has none: its cluster lives in a
/// directory of the project (`.porter/postgres`), it keeps running after the command that
/// started it exits, and it keeps its data until it is removed. `porter dev start|stop|status`
/// drive it, and every `porter` command uses it when no database is configured.
///
/// It listens on a Unix socket in its own directory only, never on TCP, so it cannot clash
/// with another server's port. As root it runs as the `postgres` system user, as
/// `EmbeddedPostgres` does.
package struct DevelopmentServer: Sendable {
    /// The directory holding the cluster (`data/`), its log (`server.log`) and its socket.
    package let directory: String

    /// The server in `PORTER_DEV_DIR` when set, else in the `.porter/postgres` of the current
    /// directory or of the nearest parent that has one, else in `./.porter/postgres`.
    package static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) -> DevelopmentServer {
        let fileManager = FileManager.default
        let current = fileManager.currentDirectoryPath
        if let explicit = environment["PORTER_DEV_DIR"], !explicit.isEmpty {
            let path = explicit.hasPrefix("/") ? explicit : current + "/" + explicit
            return DevelopmentServer(directory: URL(fileURLWithPath: path).standardizedFileURL.path)
        }
        var folder = URL(fileURLWithPath: current).standardizedFileURL
        while true {
            let candidate = folder.appendingPathComponent(".porter/postgres/data").path
            if fileManager.fileExists(atPath: candidate) {
                return DevelopmentServer(directory: folder.appendingPathComponent(".porter/postgres").path)
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { break }
            folder = parent
        }
        return DevelopmentServer(directory: URL(fileURLWithPath: current).appendingPathComponent(".porter/postgres").path)
    }

    package init(directory: String) {
        self.directory = directory
    }

    /// The cluster's data directory.
    package var dataDirectory: String { directory + "/data" }
    /// The server's log.
    package var logPath: String { directory + "/server.log" }

    /// The connection string for database `postgres` as superuser `postgres`.
    package var connectionString: String { "host=\(directory) port=5432 user=postgres dbname=postgres" }

    /// The same as a `postgresql://` URL, for tools that only take URLs.
    package var url: String {
        let encoded = directory.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~"))) ?? directory
        return "postgresql://postgres@/postgres?host=\(encoded)&port=5432"
    }

    /// Whether a cluster has been created here.
    package var exists: Bool { FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") }

    /// Whether the server is running: its socket answers.
    package var isRunning: Bool {
        guard exists, let bin = try? EmbeddedPostgres.findBinDirectory() else { return false }
        let status = try? ChildProcess.run(
            [bin + "/pg_isready", "-q", "-h", directory, "-p", "5432", "-t", "2"], environment: Self.serverEnvironment)
        return status == 0
    }

    /// Creates the cluster if there is none and starts the server if it is not running.
    /// Returns what it did. Safe to call from several processes at once: one does the work,
    /// the others wait for it.
    @discardableResult
    package func start() throws -> StartOutcome {
        let socket = directory + "/.s.PGSQL.5432"
        guard socket.utf8.count < 108 else {
            throw EmbeddedPostgresError(
                "\(directory) is too long a path for PostgreSQL's Unix socket (\(socket.utf8.count) bytes, at most 107); set PORTER_DEV_DIR to a shorter directory, e.g. PORTER_DEV_DIR=/tmp/porter-dev")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try withLock {
            if isRunning { return .alreadyRunning }
            let bin = try EmbeddedPostgres.findBinDirectory()
            let asPostgres = geteuid() == 0
            var outcome = StartOutcome.started
            if !exists {
                if asPostgres { try handToPostgresUser() }
                let initStatus = try ChildProcess.run(
                    command([bin + "/initdb", "-D", dataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C",
                             "--no-instructions"], asPostgres: asPostgres),
                    outputPath: directory + "/initdb.log", environment: Self.serverEnvironment)
                guard initStatus == 0 else {
                    throw EmbeddedPostgresError("initdb failed with status \(initStatus); see \(directory)/initdb.log")
                }
                outcome = .created
            }
            // The server writes its log as the user it runs as.
            if asPostgres, let account = getpwnam("postgres") {
                if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
                chown(logPath, account.pointee.pw_uid, account.pointee.pw_gid)
            }
            let settings = ["-k", directory, "-c", "listen_addresses=", "-p", "5432"]
            let startStatus = try ChildProcess.run(
                command([bin + "/pg_ctl", "-D", dataDirectory, "-l", logPath, "-w", "-t", "60",
                         "-o", settings.map(shellQuote).joined(separator: " "), "start"], asPostgres: asPostgres),
                outputPath: asPostgres ? "/dev/null" : logPath, newSession: true, environment: Self.serverEnvironment)
            guard startStatus == 0 else {
                let tail = (try? String(contentsOfFile: logPath, encoding: .utf8))?.suffix(2000) ?? ""
                throw EmbeddedPostgresError("pg_ctl start failed with status \(startStatus): \(tail)")
            }
            return outcome
        }
    }

    /// What `start()` did.
    package enum StartOutcome: Sendable, Equatable {
        /// Created a cluster and started it.
        case created
        /// Started the existing cluster.
        case started
        /// Found it running.
        case alreadyRunning
    }

    /// Stops the server (its data stays); true when it was running.
    @discardableResult
    package func stop() throws -> Bool {
        guard exists else { return false }
        return try withLock {
            guard isRunning else { return false }
            let bin = try EmbeddedPostgres.findBinDirectory()
            let status = try ChildProcess.run(
                command([bin + "/pg_ctl", "-D", dataDirectory, "-m", "fast", "-w", "-t", "60", "stop"], asPostgres: geteuid() == 0),
                environment: Self.serverEnvironment)
            guard status == 0 else { throw EmbeddedPostgresError("pg_ctl stop failed with status \(status); see \(logPath)") }
            return true
        }
    }

    /// Stops the server and deletes its directory, data and all.
    package func remove() throws {
        try stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// This process's environment without libpq's `PG*` variables, which PostgreSQL's own
    /// programs read too: the server's settings are the command line's (an empty `PGPORT`
    /// made initdb fail).
    private static var serverEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }
    }

    /// `arguments`, run as the `postgres` user when we are root (PostgreSQL refuses root).
    private func command(_ arguments: [String], asPostgres: Bool) -> [String] {
        asPostgres ? [EmbeddedPostgres.runuser, "-u", "postgres", "--"] + arguments : arguments
    }

    /// As root: gives the directory to the `postgres` user, who must also be able to reach it.
    private func handToPostgresUser() throws {
        guard let account = getpwnam("postgres") else {
            throw EmbeddedPostgresError(
                "PostgreSQL refuses to run as root and there is no `postgres` user to run it as; install Debian's postgresql package (apt-get install -y postgresql) or run as another user")
        }
        chown(directory, account.pointee.pw_uid, account.pointee.pw_gid)
        let reachable = try ChildProcess.run([EmbeddedPostgres.runuser, "-u", "postgres", "--", "test", "-w", directory])
        guard reachable == 0 else {
            throw EmbeddedPostgresError(
                "the postgres user, which PostgreSQL runs as under root, cannot reach \(directory); run from a directory it can reach or set PORTER_DEV_DIR, e.g. PORTER_DEV_DIR=/var/tmp/porter-dev")
        }
    }

    /// Runs `body` holding an exclusive lock on the directory's `lock` file, so that two
    /// commands starting the server at once do not both run initdb.
    private func withLock<T>(_ body: () throws -> T) throws -> T {
        let descriptor = open(directory + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw EmbeddedPostgresError("could not open \(directory)/lock: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw EmbeddedPostgresError("could not lock \(directory)/lock: \(String(cString: strerror(errno)))") }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }
}
