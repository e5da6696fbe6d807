import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// A `porter worker` process started by a test.
final class WorkerProcess: @unchecked Sendable {
    let process = Process()
    let log: URL

    /// `databaseURL` connects elsewhere than as the database's own user, e.g. as another role.
    convenience init(
        database: TestDatabase, config: String, command: String = "worker", arguments: [String] = [],
        databaseURL: String? = nil
    ) throws {
        try self.init(
            databaseURL: databaseURL ?? database.connectionString, config: config, command: command, arguments: arguments)
    }

    /// `environment` is added to this process's for the worker.
    init(
        databaseURL: String, config: String, command: String = "worker", arguments: [String] = [],
        environment: [String: String] = [:]
    ) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("porter-worker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let configFile = folder.appendingPathComponent("porter.json")
        try Data(config.utf8).write(to: configFile)
        log = folder.appendingPathComponent("worker.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = porterExecutable()
        process.arguments = [command, "--config", configFile.path, "--database-url", databaseURL] + arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    func kill(_ signal: Int32) { _ = Foundation.kill(process.processIdentifier, signal) }

    /// Waits for the process to exit and returns its status.
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        try await waitUntil(timeout: timeout, "porter worker \(pid) to exit") { !self.process.isRunning }
        return process.terminationStatus
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }
}

@Suite(.serialized) struct WorkerProcessTests {
    static let config = """
        {"sql_schemas": ["app"], "workers": {"default": {"background_workers": 4}},
         "poll_interval": 0.2, "heartbeat_interval": 0.3, "rescue_after": 4, "maintenance_interval": 0.3,
         "shutdown_grace": 5}
        """

    @Test func threeWorkerProcessesRunFiveThousandJobsExactlyOnce() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let workers = try (0..<3).map { _ in try WorkerProcess(database: database, config: Self.config) }
        var left = 5000
        while left > 0 {
            _ = try await porter.enqueueMany((0..<min(left, 500)).map { _ in EnqueueRequest(method: "sql:app.record") })
            left -= 500
        }
        try await waitUntil(timeout: .seconds(120), "5,000 jobs to finish") {
            try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE status = 'finished'").single(Int.self) == 5000
        }
        let row = try #require(try await porter.pool.query("SELECT count(*), count(DISTINCT job) FROM app.effects").first)
        let (effects, distinct) = try row.decode((Int, Int).self)
        #expect(effects == 5000)
        #expect(distinct == 5000)
        // All three took part.
        let workersSeen = try await porter.pool.query("SELECT count(*) FROM porter.workers").single(Int.self)
        #expect(workersSeen == 3)
        for worker in workers { worker.kill(SIGTERM) }
        for worker in workers { #expect(try await worker.waitForExit() == 0, "\(worker.output)") }
        await porter.close()
    }

    @Test func killedWorkersJobRunsAgainWithoutItsPartialEffects() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let id = try #require(try await porter.enqueue(
            method: "sql:app.slow", args: PQJSON(text: #"{"sleep": 3}"#)).id)
        let doomed = try WorkerProcess(database: database, config: Self.config)
        try await waitForJob(porter, id, .started)
        // The partial effect is written but not committed; SIGKILL while the job sleeps.
        try await waitUntil("the job's statement to be running") {
            try await porter.pool.query(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = pg_catalog.current_database() AND query LIKE 'SELECT pg_catalog.to_jsonb(r) FROM \"app\".\"slow\"%' AND state = 'active'"
            ).single(Int.self) == 1
        }
        doomed.kill(SIGKILL)
        _ = try await doomed.waitForExit()

        let rescuer = try WorkerProcess(database: database, config: Self.config)
        let job = try await waitForJob(porter, id, .finished, timeout: .seconds(60))
        #expect(job.attempts == 2)
        #expect(try await porter.pool.query("SELECT orphaned FROM porter.jobs WHERE id = \(id)").single(Int.self) == 1)
        // Only the second run's effect committed; the killed run's was rolled back.
        #expect(try await effects(porter, job: id) == 1)
        rescuer.kill(SIGTERM)
        #expect(try await rescuer.waitForExit() == 0, "\(rescuer.output)")
        #expect(job.attempts == 2, "doomed: \(doomed.output)")
        await porter.close()
    }

    @Test func aKilledWorkerProcessesJobRunsAgainWithinSecondsAtDefaultTimings() async throws {
        // Default heartbeat_interval (5 s), rescue_after (20 s) and maintenance_interval (5 s):
        // the killed process's session ends with it, and that is what gets its job rescued.
        let config = #"{"sql_schemas": ["app"], "workers": {"default": {"background_workers": 2}}, "shutdown_grace": 1}"#
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let id = try #require(try await porter.enqueue(method: "sql:app.slow", args: PQJSON(text: #"{"sleep": 60}"#)).id)
        let doomed = try WorkerProcess(database: database, config: config)
        try await waitForJob(porter, id, .started)
        let rescuer = try WorkerProcess(database: database, config: config)
        try await waitUntil(timeout: .seconds(15), "the second worker to register") {
            try await porter.pool.query("SELECT count(*) FROM porter.workers").single(Int.self) == 2
        }
        let killedAt = try await porter.pool.query("SELECT clock_timestamp()").single(Date.self)
        doomed.kill(SIGKILL)
        _ = try await doomed.waitForExit()
        try await waitUntil(timeout: .seconds(30), "the job to run again") {
            try await porter.pool.query("SELECT attempts = 2 AND status = 'started' FROM porter.jobs WHERE id = \(id)").single(Bool.self)
        }
        let startedAgain = try await porter.pool.query("SELECT started_at FROM porter.jobs WHERE id = \(id)").single(Date.self)
        // About 3 s; the heartbeat's timeout alone would take 20 to 25 s.
        #expect(startedAgain.timeIntervalSince(killedAt) < 8, "\(startedAgain.timeIntervalSince(killedAt)) s")
        rescuer.kill(SIGTERM)
        #expect(try await rescuer.waitForExit() == 0, "\(rescuer.output)")
        await porter.close()
    }

    @Test func sigtermLetsTheJobInFlightFinishAndExitsZero() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let worker = try WorkerProcess(database: database, config: Self.config)
        let id = try #require(try await porter.enqueue(method: "sql:app.slow", args: PQJSON(text: #"{"sleep": 1}"#)).id)
        try await waitForJob(porter, id, .started)
        worker.kill(SIGTERM)
        #expect(try await worker.waitForExit() == 0, "\(worker.output)")
        #expect(try await porter.job(id: id)?.status == .finished)
        // The test database's role is a superuser: the worker said so once, with the alternative.
        #expect(worker.output.components(separatedBy: "logs in as a superuser").count == 2, "\(worker.output)")
        #expect(worker.output.contains("porter.grant_worker"), "\(worker.output)")
        await porter.close()
    }

    @Test func aWorkerRefusesAtStartTheScheduleThatPorterSchedulerRefuses() async throws {
        let database = try await TestDatabase.create()
        let worker = try WorkerProcess(database: database, config: #"{"scheduler_events": {"cron": {"61 * * * *": ["a.report"]}}}"#)
        #expect(try await worker.waitForExit() != 0)
        #expect(worker.output.contains("scheduler_events.cron"), "\(worker.output)")
        #expect(worker.output.contains("minute field"), "\(worker.output)")
    }

    @Test func badConfigStopsTheWorkerWithTheKeyAndTheFix() async throws {
        let database = try await TestDatabase.create()
        let worker = try WorkerProcess(database: database, config: #"{"workers": {"long": {"backgroud_workers": 2}}}"#)
        #expect(try await worker.waitForExit() != 0)
        #expect(worker.output.contains("workers.long.backgroud_workers"))
        #expect(worker.output.contains("did you mean background_workers?"))
    }
}

/// The built `porter` executable, beside the test bundle; `PORTER_EXECUTABLE` names another
/// build to run the same tests against (an older one, to see a regression test fail).
func porterExecutable() -> URL {
    if let other = ProcessInfo.processInfo.environment["PORTER_EXECUTABLE"], !other.isEmpty {
        return URL(fileURLWithPath: other)
    }
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("porter")
    if FileManager.default.fileExists(atPath: beside.path) { return beside }
    return MigrationTests.packageRoot.appendingPathComponent(".build/debug/porter")
}
