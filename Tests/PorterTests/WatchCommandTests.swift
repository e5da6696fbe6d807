import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// A `porter watch` process whose stdout is a file, so its output is piped, not a terminal.
final class WatchProcess: @unchecked Sendable {
    let process = Process()
    let stdout: URL
    let stderr: URL

    init(database: TestDatabase, arguments: [String]) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("porter-watch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        stdout = folder.appendingPathComponent("stdout")
        stderr = folder.appendingPathComponent("stderr")
        for file in [stdout, stderr] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        process.executableURL = porterExecutable()
        process.arguments = ["watch", "--database-url", database.connectionString] + arguments
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Waits until the watcher's LISTEN is in place.
    func waitUntilWatching() async throws {
        try await waitUntil(timeout: .seconds(15), "porter watch to start listening") {
            (try? String(contentsOf: self.stderr, encoding: .utf8))?.contains("watching porter_realtime") == true
        }
    }

    func waitForExit() async throws -> Int32 {
        try await waitUntil(timeout: .seconds(30), "porter watch to exit") { !self.process.isRunning }
        return process.terminationStatus
    }

    /// Each stdout line, decoded as the wire format.
    func events() throws -> [(event: String, job: Int64?, message: [String: Any])] {
        let text = try String(contentsOf: stdout, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return (try #require(object["event"] as? String), (object["job"] as? NSNumber)?.int64Value,
                    try #require(object["message"] as? [String: Any]))
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

@Suite struct WatchCommandTests {
    @Test func pipedWatchPrintsJSONLinesAndExitsWhenTheJobEnds() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let id = try #require(try await porter.enqueue(method: "sql:app.counted").id)
        let other = try #require(try await porter.enqueue(method: "sql:app.counted").id)
        let oneJob = try WatchProcess(database: database, arguments: ["--job", String(id)])
        let progressOnly = try WatchProcess(database: database, arguments: ["--event", "progress"])
        let oneJobProgress = try WatchProcess(database: database, arguments: ["--job", String(id), "--event", "progress"])
        try await oneJob.waitUntilWatching()
        try await progressOnly.waitUntilWatching()
        try await oneJobProgress.waitUntilWatching()

        let worker = RunningWorker(porter, fastConfiguration())
        #expect(try await oneJob.waitForExit() == 0)
        try await waitForJob(porter, other, .finished)
        try await worker.shutdown()

        let events = try oneJob.events()
        #expect(events.map(\.event) == ["started", "progress", "counted", "finished"])
        #expect(events.allSatisfy { $0.job == id })
        #expect(events[1].message["percent"] as? Double == 50)
        #expect(events[1].message["title"] as? String == "Counting")
        #expect(events[2].message["total"] as? Int == 7)
        // Showing only progress, it still exits when the job ends.
        #expect(try await oneJobProgress.waitForExit() == 0)
        let printed = try String(contentsOf: oneJobProgress.stdout, encoding: .utf8)
        #expect(try oneJobProgress.events().map(\.event) == ["progress"], "\(printed)")

        // The --event watcher saw both jobs' progress and nothing else.
        try await waitUntil(timeout: .seconds(10), "both progress events to be printed") {
            (try? progressOnly.events().count) == 2
        }
        progressOnly.process.terminate()
        let progress = try progressOnly.events()
        #expect(progress.allSatisfy { $0.event == "progress" })
        #expect(Set(progress.compactMap(\.job)) == [id, other])
        await porter.close()
    }

    @Test func watchingAJobWhoseWorkerSendsNoStateEventsStillExitsWhenItEnds() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(Sum.self) { job, _ in job.numbers.reduce(0, +) }
        let porter = database.makeClient(registry: registry)
        let id = try #require(try await porter.enqueue(Sum(numbers: [2, 3])).id)
        let watch = try WatchProcess(database: database, arguments: ["--job", String(id)])
        try await watch.waitUntilWatching()
        let worker = RunningWorker(porter, fastConfiguration { $0.jobEvents = false })
        try await waitForJob(porter, id, .finished)
        // No event will come: the watcher finds the end in the job's row.
        #expect(try await watch.waitForExit() == 0)
        #expect(try watch.events().map(\.event) == ["finished"])
        try await worker.shutdown()
        await porter.close()
    }

    @Test func watchingAJobThatAlreadyFailedExitsOne() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let id = try #require(try await porter.enqueue(method: "sql:app.fail", args: PQJSON(text: #"{"outlet": "X"}"#)).id)
        let worker = RunningWorker(porter, fastConfiguration())
        try await waitForJob(porter, id, .failed)
        try await worker.shutdown()
        let watch = try WatchProcess(database: database, arguments: ["--job", String(id)])
        #expect(try await watch.waitForExit() == 1)
        #expect(try watch.events().map(\.event) == ["failed"])
        let unknown = try WatchProcess(database: database, arguments: ["--job", "987654"])
        #expect(try await unknown.waitForExit() != 0)
        #expect(try String(contentsOf: unknown.stderr, encoding: .utf8).contains("no job has id 987654"))
        await porter.close()
    }
}
