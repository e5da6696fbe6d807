import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// A program built beside the test bundle, run to its end with its output collected.
func runExample(_ name: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    if !FileManager.default.fileExists(atPath: process.executableURL!.path) {
        process.executableURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/\(name)")
    }
    process.arguments = arguments
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("porter-example-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    let handle = try FileHandle(forWritingTo: log)
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    try await waitUntil(timeout: .seconds(60), "\(name) to exit") { !process.isRunning }
    try handle.close()
    let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    try? FileManager.default.removeItem(at: log)
    return (process.terminationStatus, output)
}

@Suite struct ExampleProgramTests {
    /// Examples/PostgresNIOOrders imports PostgresNIO, Porter and PorterPostgres together and
    /// checks its own claims (commit, NOTIFY, rollback, dedup); the rows are checked here too.
    @Test func thePostgresNIOExampleCommitsRollsBackAndDeduplicates() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let run = try await runExample("porter-example-postgres-nio", [database.connectionString])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("ok: rolled back: still one order and one job"), "\(run.output)")
        let porter = database.makeClient()
        #expect(try await porter.pool.query("SELECT count(*) FROM orders").single(Int.self) == 1)
        let methods = try await porter.jobs().map(\.method).sorted()
        #expect(methods == ["orders.send_confirmation", "porter.run_doc_method", "reports.daily", "reports.weekly"])
        await porter.close()
    }
}
