import Foundation
import PorterPostgres
import PorterTesting

#if canImport(Glibc)
import Glibc
#endif

/// Helpers for the servers some tests start besides PostgreSQL (PgBouncer, etcd, Patroni): a
/// free loopback port, a directory the `postgres` user owns, running a program as that user
/// (those servers, like PostgreSQL, refuse to run as root or need its files), and a cleanup
/// that runs even when the test process is killed.
enum TestDaemon {
    /// Whether this process is root, so servers run as the `postgres` user.
    static let asPostgresUser = geteuid() == 0

    /// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick).
    static func freeLoopbackPort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw TestDaemonError("socket() failed: \(errno)") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
            }
        }
        guard bound else { throw TestDaemonError("could not bind a loopback port: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A new temporary directory, owned by the `postgres` user when this process is root.
    static func makeDirectory(_ prefix: String) throws -> String {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw TestDaemonError("mkdtemp failed: \(errno)") }
        let directory = String(cString: created)
        chmod(directory, 0o755)
        try chownToPostgres(directory)
        return directory
    }

    /// Hands a file or directory to the `postgres` user when this process is root.
    static func chownToPostgres(_ path: String) throws {
        guard asPostgresUser else { return }
        guard let account = getpwnam("postgres") else {
            throw TestDaemonError("there is no `postgres` user to run the server as; install Debian's postgresql package")
        }
        chown(path, account.pointee.pw_uid, account.pointee.pw_gid)
    }

    /// `arguments` as a command run by the `postgres` user when this process is root.
    static func command(_ arguments: [String]) -> [String] {
        asPostgresUser ? ["runuser", "-u", "postgres", "--"] + arguments : arguments
    }

    /// Starts `program` in the background, as the `postgres` user when root, writing its pid to
    /// `pidFile` (the program's own pid: `exec` replaces the shell) and its output to `log`.
    static func start(_ program: [String], pidFile: String, log: String) throws {
        let script = "echo $$ > \(shellQuoted(pidFile)); exec \(program.map(shellQuoted).joined(separator: " "))"
        _ = try ChildProcess.spawn(command(["sh", "-c", script]), outputPath: log, newSession: true)
    }

    /// Runs `shellScript` once this process has exited, however it ends (a watchdog polls it).
    static func cleanUpAfterExit(_ shellScript: String) throws {
        let watchdog = "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(shellScript)"
        _ = try ChildProcess.spawn(["sh", "-c", watchdog], newSession: true)
    }

    /// Runs a command to its end, off the cooperative pool; returns its exit status.
    static func run(_ arguments: [String], log: String = "/dev/null") async throws -> Int32 {
        try await offPool { try ChildProcess.run(arguments, outputPath: log) }
    }

    static func shellQuoted(_ text: String) -> String {
        if !text.isEmpty && text.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:,@".contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// A test server could not be started; the message says what is missing.
struct TestDaemonError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
