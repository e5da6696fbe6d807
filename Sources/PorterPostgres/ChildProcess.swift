import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program with `posix_spawn` and waits for it with `waitpid`.
///
/// Foundation's `Process` waits on a pipe that a daemon started by the child (as `pg_ctl start`
/// starts the server) inherits and never closes, so it never sees the child exit. Here the
/// child's output goes to a file and nothing else is inherited.
package enum ChildProcess {
    /// Runs `arguments` to completion; output is appended to `outputPath`. Returns the exit status.
    @discardableResult
    package static func run(_ arguments: [String], outputPath: String = "/dev/null", newSession: Bool = false) throws -> Int32 {
        let pid = try spawn(arguments, outputPath: outputPath, newSession: newSession)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw SpawnError(message: "waitpid failed: \(errno)") }
        }
        // WIFEXITED / WEXITSTATUS, spelled out: the macros are not imported.
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    /// Starts `arguments` and returns its pid without waiting.
    package static func spawn(_ arguments: [String], outputPath: String = "/dev/null", newSession: Bool = false) throws -> pid_t {
        guard let program = arguments.first else { throw SpawnError(message: "no program given") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if newSession {
            // POSIX_SPAWN_SETSID: the child outlives a Ctrl-C sent to our process group.
            posix_spawnattr_setflags(&attributes, Int16(0x80))
        }
        var pid: pid_t = 0
        let result = withOptionalCStringArray(arguments) { argv in
            withOptionalCStringArray(ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }) { envp in
                posix_spawnp(
                    &pid, program, &actions, &attributes,
                    UnsafeMutablePointer(mutating: UnsafeRawPointer(argv).assumingMemoryBound(to: UnsafeMutablePointer<CChar>?.self)),
                    UnsafeMutablePointer(mutating: UnsafeRawPointer(envp).assumingMemoryBound(to: UnsafeMutablePointer<CChar>?.self)))
            }
        }
        guard result == 0 else {
            throw SpawnError(message: "could not start \(program): \(String(cString: strerror(result)))")
        }
        return pid
    }

    package struct SpawnError: Error, CustomStringConvertible {
        package var message: String
        package var description: String { message }
    }
}
