import Foundation
import PorterCLI

/// A `porter demo worker` process: this same executable, with ScoopJoy's jobs.
final class DemoWorker: Sendable {
    private let process: Process

    init(connectionString: String, log: URL) throws {
        let process = Process()
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["demo", "worker", "--database-url", connectionString]
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    var pid: Int32 { process.processIdentifier }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func terminate() { process.terminate() }

    func waitForExit() async throws -> Int32 {
        try await poll("worker \(pid) to exit", timeout: .seconds(30)) { self.process.isRunning ? nil : self.process.terminationStatus }
    }

    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }
}
