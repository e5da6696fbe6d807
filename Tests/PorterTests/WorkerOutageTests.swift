import Foundation
import PorterPostgres
import PorterTesting
import Testing

@testable import Porter

@Suite struct WorkerOutageTests {
    /// A worker whose database goes away logs one warning when the outage begins and one line
    /// when it ends, each on one line, while its loops retry (logged at debug); and it runs
    /// jobs again afterwards. It used to log 72 two-line messages in 20 seconds.
    @Test func aWorkerLogsOneWarningPerOutageAndRunsJobsAfterIt() async throws {
        let directory = try temporaryDirectory("porter-outage")
        let server = DevelopmentServer(directory: directory.appendingPathComponent("postgres").path)
        _ = try await offPool { try server.start() }
        defer { try? server.remove() }
        let porter = PorterClient(pool: PQPool(try PQConfiguration(server.connectionString), maximumConnections: 2))
        try await porter.migrate()
        let worker = try WorkerProcess(
            databaseURL: server.connectionString,
            config: #"{"poll_interval": 0.2, "heartbeat_interval": 0.3, "maintenance_interval": 0.3, "rescue_after": 60}"#,
            environment: ["PORTER_LOG_LEVEL": "debug"])
        try await waitUntil(timeout: .seconds(20), "the worker to register") {
            try await porter.pool.query("SELECT count(*) FROM porter.workers").single(Int.self) == 1
        }
        await porter.close()

        _ = try await offPool { try server.stop() }
        // Enough failed attempts of claims, heartbeats and maintenance to have logged dozens
        // of lines the old way.
        try await waitUntil(timeout: .seconds(30), "the worker to retry through the outage") {
            worker.output.components(separatedBy: "database still unavailable").count > 12
        }
        _ = try await offPool { try server.start() }
        try await waitUntil(timeout: .seconds(30), "the worker to see the database again") {
            worker.output.contains("database reachable again")
        }
        let again = PorterClient(pool: PQPool(try PQConfiguration(server.connectionString), maximumConnections: 2))
        let id = try #require(try await again.enqueue(method: "porter.noop").id)
        try await waitUntil(timeout: .seconds(20), "the job to run after the outage") {
            try await again.job(id: id)?.status == .finished
        }
        await again.close()
        worker.kill(SIGTERM)
        _ = try await worker.waitForExit()

        let lines = worker.output.split(separator: "\n")
        // The start-up warning that this test's worker logs in as a superuser is not the outage's.
        let warnings = lines.filter { $0.contains(" warning ") && !$0.contains("logs in as a superuser") }
        #expect(warnings.count == 1, "\(warnings.joined(separator: "\n"))")
        #expect(warnings.first?.contains("database unavailable; retrying with backoff") == true)
        #expect(lines.filter { $0.contains(" info ") && $0.contains("database reachable again") }.count == 1)
        // No info-level line per failure (the listener says once that it reconnects), and
        // every entry on one line of its own.
        let began = try #require(lines.firstIndex { $0.contains("database unavailable") })
        let ended = try #require(lines.firstIndex { $0.contains("database reachable again") })
        let during = lines[began..<ended].filter { $0.contains(" info ") && !$0.contains("[PorterPostgres] listener") }
        #expect(during.isEmpty, "\(during.joined(separator: "\n"))")
        #expect(lines.allSatisfy { $0.hasPrefix("20") }, "\(worker.output)")
    }

    @Test func retriesBackOffFromATenthOfASecondToFiveSeconds() {
        let delays = (1...9).map { DatabaseOutage.backoff(afterFailures: $0) }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600),
                           .milliseconds(3200), .seconds(5), .seconds(5), .seconds(5)])
    }
}
