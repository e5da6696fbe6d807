import Foundation
import PorterPostgres
import PorterTesting
import Testing

/// The README's tour, run as a reader runs it: its lines by copy-paste into bash, on a
/// machine with no database configured (no URL, no PG* variable), in a fresh directory.
@Suite struct TourTests {
    /// The lines of the README block after `<!-- tour -->`, without the first, which builds
    /// porter (this test runs the porter the suite was built with).
    static func tourLines() throws -> [String] {
        let readme = try String(contentsOf: MigrationTests.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "<!-- tour -->\n```sh\n"), "the README has no tour")
        let end = try #require(readme.range(of: "\n```", range: start.upperBound..<readme.endIndex))
        let lines = readme[start.upperBound..<end.lowerBound].components(separatedBy: "\n")
        #expect(lines.first?.hasPrefix("swift build --product porter") == true)
        return Array(lines.dropFirst())
    }

    @Test func theReadmeTourRunsLineByLineOnAMachineWithNoDatabase() async throws {
        let lines = try Self.tourLines()
        let directory = try temporaryDirectory("porter-tour")
        defer { try? DevelopmentServer(directory: directory.appendingPathComponent(".porter/postgres").path).remove() }
        let script = directory.appendingPathComponent("tour.sh")
        // -e: a line that fails stops the tour, as it would stop a reader.
        try Data(("set -e\n" + lines.joined(separator: "\n") + "\n").utf8).write(to: script)

        let bash = Process()
        bash.executableURL = URL(fileURLWithPath: "/bin/bash")
        bash.arguments = [script.path]
        bash.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }
        for name in ["PORTER_DATABASE_URL", "DATABASE_URL", "PORTER_DEV_DIR", "PORTER_CONFIG"] { environment[name] = nil }
        environment["PATH"] = porterExecutable().deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        bash.environment = environment
        let log = directory.appendingPathComponent("tour.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        bash.standardOutput = handle
        bash.standardError = handle
        bash.standardInput = FileHandle.nullDevice
        try bash.run()
        try await waitUntil(timeout: .seconds(120), "the tour to end") { !bash.isRunning }
        try handle.close()
        let output = try String(contentsOf: log, encoding: .utf8)

        #expect(bash.terminationStatus == 0, "\(output)")
        for expected in [
            "created and started a development PostgreSQL in .porter/postgres",
            "applied 1 create_jobs",
            "not enqueued: job_id hello is already queued or running",
            "porter.noop",
            #""event":"finished""#,
            "status       finished",
            "HOST",
            "stopped the development PostgreSQL in .porter/postgres",
        ] {
            #expect(output.contains(expected), "the tour's output lacks \(expected):\n\(output)")
        }
        let worker = try String(contentsOf: directory.appendingPathComponent(".porter/worker.log"), encoding: .utf8)
        #expect(worker.contains("worker stopped"), "\(worker)")
        #expect(!output.contains("Error:"), "\(output)")
    }
}
