import Foundation
import PorterCLI

/// A `porter worker` process started by a benchmark: this same executable, its output in a
/// log file.
final class BenchWorkerProcess: Sendable {
    private let process: Process
    /// Where its stdout and stderr go.
    let log: URL

    init(arguments: [String], log: URL) throws {
        let process = Process()
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PORTER_LOG_LEVEL"] = environment["PORTER_LOG_LEVEL"] ?? "warning"
        process.environment = environment
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        self.log = log
    }

    var pid: Int32 { process.processIdentifier }

    func signal(_ signal: Int32) { _ = Foundation.kill(process.processIdentifier, signal) }

    /// Waits for the process to exit and returns its status.
    func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        try await poll("worker \(pid) to exit", timeout: timeout) { self.process.isRunning ? nil : self.process.terminationStatus }
    }

    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }
}
