import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// An example program built beside the test bundle, started with its output going to a file.
final class ExampleProcess: @unchecked Sendable {
    let process = Process()
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("porter-example-\(UUID().uuidString).log")

    init(_ name: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
        if !FileManager.default.fileExists(atPath: process.executableURL!.path) {
            process.executableURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug/\(name)")
        }
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Waits for the program to exit and returns its status.
    func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        try await waitUntil(timeout: timeout, "\(process.executableURL?.lastPathComponent ?? "the example") to exit") {
            !self.process.isRunning
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: log)
    }
}

/// A program built beside the test bundle, run to its end with its output collected.
func runExample(_ name: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let example = try ExampleProcess(name, arguments)
    let status = try await example.waitForExit()
    return (status, example.output)
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

    /// Examples/OrderService: an order and its job in one transaction on Porter's own pool.
    @Test func theOrderServiceExampleCommitsTheOrderWithItsJob() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let run = try await runExample("porter-example-order-service", [database.connectionString])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("order saved, confirmation job: enqueued(id:"), "\(run.output)")
        let porter = database.makeClient()
        #expect(try await porter.pool.query("SELECT count(*) FROM orders").single(Int.self) == 1)
        let job = try #require(try await porter.jobs().first)
        #expect(job.method == "orders.send_confirmation" && job.jobID == "confirm-1" && job.queue == "short")
        await porter.close()
    }

    /// Examples/WorkerService: a worker in the app's ServiceGroup runs the report it enqueued,
    /// and SIGTERM shuts it down gracefully.
    @Test func theWorkerServiceExampleRunsItsJobAndStopsOnSIGTERM() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let service = try ExampleProcess("porter-example-worker-service", [database.connectionString])
        let porter = database.makeClient()
        try await waitUntil(timeout: .seconds(30), "the report job to finish") {
            (try? await porter.jobs().first?.status) == .finished
        }
        #expect(try await porter.jobs().first?.result?.text == #"{"rows": 42}"#)
        kill(service.process.processIdentifier, SIGTERM)
        #expect(try await service.waitForExit() == 0, "\(service.output)")
        await porter.close()
    }
}
