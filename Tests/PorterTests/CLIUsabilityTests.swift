import Foundation
import Porter
@testable import PorterCLI
import PorterPostgres
import PorterTesting
import Testing

/// What a new user stumbled on with the `porter` executable, each through the real binary.
@Suite struct CLIUsabilityTests {
    @Test func readingCommandsOnAnUnmigratedDatabaseSayToRunPorterMigrate() async throws {
        let database = try await TestDatabase.create(migrated: false)
        for command in [["jobs"], ["job", "1"], ["workers"]] {
            let result = try await runPorter(command + ["--database-url", database.connectionString])
            #expect(result.status != 0, "\(command): \(result.output)")
            #expect(result.output.contains("run `porter migrate`"), "\(command): \(result.output)")
        }
    }

    @Test func aDuplicateJobIDTellsTheShellUserToAddDeduplicate() async throws {
        let database = try await TestDatabase.create()
        let arguments = ["enqueue", "app.sync", "--job-id", "sync-A1", "--database-url", database.connectionString]
        #expect(try await runPorter(arguments).status == 0)
        let duplicate = try await runPorter(arguments)
        #expect(duplicate.status == 1, "\(duplicate.output)")
        #expect(duplicate.output.contains("job_id sync-A1 is already queued or running; add --deduplicate"), "\(duplicate.output)")
        #expect(!duplicate.output.contains("=>"), "\(duplicate.output)")
        #expect(try await jobCount(database) == 1)
    }

    @Test func errorsArePrintedAsSentencesNotAsTypeNames() async throws {
        let database = try await TestDatabase.create()
        let unreachable = try await runPorter(["jobs", "--database-url", "host=/nonexistent/porter port=5432 dbname=app"])
        #expect(unreachable.status == 1)
        #expect(unreachable.output.hasPrefix("Error: could not connect to PostgreSQL"), "\(unreachable.output)")
        let refused = try await runPorter(["enqueue", "m", "--queue", " ", "--database-url", database.connectionString])
        #expect(refused.output.hasPrefix("Error: porter.enqueue: queue must be a non-empty name"), "\(refused.output)")
        for result in [unreachable, refused] {
            for name in ["PQError", "PorterError", "PostgresError", "Code("] {
                #expect(!result.output.contains(name), "\(result.output)")
            }
        }
    }

    /// A config file that is wrong, or a job that does not exist, is not a mistake in the
    /// command line: the fix is said once, without argument parsing's usage text after it.
    @Test func aBadConfigFileOrAnUnknownJobIsReportedWithoutTheUsage() async throws {
        let database = try await TestDatabase.create()
        let folder = try temporaryDirectory("porter-config")
        let config = folder.appendingPathComponent("porter.json")
        try Data(#"{"poll_interval": "5000"}"#.utf8).write(to: config)
        let missing = folder.appendingPathComponent("missing.json").path
        for command in [["worker", "--config", config.path], ["scheduler", "--config", missing], ["schedule", "--config", missing],
                        ["watch", "--job", "999999"]] {
            let result = try await runPorter(command + ["--database-url", database.connectionString])
            #expect(result.status == 1, "\(command): \(result.output)")
            #expect(result.output.hasPrefix("Error: "), "\(command): \(result.output)")
            #expect(!result.output.contains("Usage:"), "\(command): \(result.output)")
        }
    }

    @Test func migratePrintsEachMigrationOnce() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let result = try await runPorter(["migrate", "--database-url", database.connectionString])
        #expect(result.status == 0, "\(result.output)")
        // One line per migration, and nothing else: the library's own log of each said it twice.
        #expect(result.output.split(separator: "\n").map(String.init) == Migration.all.map { "applied \($0.version) \($0.name)" },
                "\(result.output)")
        let again = try await runPorter(["migrate", "--database-url", database.connectionString])
        #expect(again.output == "porter schema is up to date (\(Migration.all.count) migrations)\n", "\(again.output)")
    }

    @Test func scheduleShowsTimesInTheSchedulersTimeZone() async throws {
        let database = try await TestDatabase.create()
        let config = try configFile(#"""
            {"scheduler_timezone": "Asia/Kolkata", "scheduler_events": {"cron": {"15 18 * * *": ["app.tasks.evening_report"]}}}
            """#)
        let result = try await runPorter(["schedule", "--config", config, "--database-url", database.connectionString])
        #expect(result.status == 0, "\(result.output)")
        let line = try #require(result.output.split(separator: "\n").first { $0.contains("app.tasks.evening_report") })
        // 18:15 in Kolkata, as Kolkata's clocks show it.
        #expect(line.contains("T18:15:00.000+05:30"), "\(result.output)")
    }

    @Test func jobShowsEveryAttemptsErrorAndWorker() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let id = try #require(try await porter.enqueue(
            method: "sql:app.fail", args: PQJSON(text: #"{"outlet": "A1"}"#), options: EnqueueOptions(maxAttempts: 2)).id)
        let worker = try WorkerProcess(
            database: database,
            config: #"{"sql_schemas": ["app"], "poll_interval": 0.1, "retry_backoff_base": 0, "retry_backoff_max": 0}"#)
        let job = try await waitForJob(porter, id, .failed)
        worker.kill(SIGTERM)
        _ = try await worker.waitForExit()
        #expect(job.attempts == 2)
        let workerID = try #require(try await porter.pool.query(
            "SELECT errors->0->>'worker' FROM porter.jobs WHERE id = \(id)").single(String?.self))
        let shown = try await runPorter(["job", "\(id)", "--database-url", database.connectionString])
        #expect(shown.status == 0, "\(shown.output)")
        for attempt in 1...2 {
            let line = try #require(shown.output.split(separator: "\n").first { $0.hasPrefix("attempt \(attempt) ") }, "\(shown.output)")
            #expect(line.contains("on worker \(workerID): ") && line.contains("stock level unavailable for A1"), "\(line)")
        }
        let json = try await runPorter(["job", "\(id)", "--json", "--database-url", database.connectionString])
        let object = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        #expect((object?["errors"] as? [[String: Any]])?.map { $0["worker"] as? String } == [workerID, workerID])
        await porter.close()
    }

    @Test func workersListsEachRunningWorkerWithItsHostPidQueuesAndHeartbeat() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let none = try await runPorter(["workers", "--database-url", database.connectionString])
        #expect(none.status == 0 && none.output.contains("(no worker is registered)"), "\(none.output)")
        let worker = try WorkerProcess(
            database: database, config: #"{"workers": {"short": {}, "default": {}}}"#, arguments: ["--queue", "short,default"])
        try await waitUntil(timeout: .seconds(20), "the worker to register") {
            try await porter.pool.query("SELECT count(*) FROM porter.workers").single(Int.self) == 1
        }
        let listed = try await runPorter(["workers", "--database-url", database.connectionString])
        #expect(listed.status == 0, "\(listed.output)")
        let row = try #require(listed.output.split(separator: "\n").dropFirst().first.map(String.init), "\(listed.output)")
        #expect(row.contains(ProcessInfo.processInfo.hostName) && row.contains(" \(worker.pid) "), "\(listed.output)")
        // A heartbeat under a second old reads "350 ms ago".
        #expect(row.contains("short,default") && (row.contains(" s ago") || row.contains(" ms ago")), "\(listed.output)")
        let json = try await runPorter(["workers", "--json", "--database-url", database.connectionString])
        let object = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        #expect((object?["pid"] as? NSNumber)?.int32Value == worker.pid)
        #expect(object?["queues"] as? [String] == ["short", "default"] && (object?["slots_busy"] as? NSNumber)?.intValue == 0)
        worker.kill(SIGTERM)
        #expect(try await worker.waitForExit() == 0)
        await porter.close()
    }

    /// A user's own executable (`PorterCLI.main(registry:)`, Examples/CustomPorter) has every
    /// porter command but the demo and the benchmarks, which only the porter executable carries.
    @Test func aUsersOwnExecutableHasThePorterCommandsButNoDemoOrBenchmarks() async throws {
        var own = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("porter-example-custom-porter")
        if !FileManager.default.fileExists(atPath: own.path) {
            own = MigrationTests.packageRoot.appendingPathComponent(".build/debug/porter-example-custom-porter")
        }
        // Run and waited for off the cooperative pool, whose few threads every test shares.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("porter-custom-help-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let status = try await TestDaemon.run([own.path, "--help"], log: log.path)
        #expect(status == 0)
        let help = try String(contentsOf: log, encoding: .utf8)
        let subcommands = help.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            return line.split(separator: " ").first.map(String.init)
        }
        for command in ["migrate", "enqueue", "jobs", "job", "worker", "watch", "workers", "dev"] {
            #expect(subcommands.contains(command), "\(help)")
        }
        #expect(!subcommands.contains("demo") && !subcommands.contains("bench"), "\(help)")
        let porter = try await runPorter(["--help"])
        #expect(porter.output.contains("\n  demo ") && porter.output.contains("\n  bench "), "\(porter.output)")
    }

    /// `porter watch` on a terminal: state events read as sentences, other events as
    /// key=value pairs; no JSON.
    @Test func watchOnATerminalPrintsEventsForPeopleNotJSON() throws {
        // In the afternoon, so that a 12-hour clock would show 01:00:01.
        let noon = try #require(ISO8601DateFormatter().date(from: "2026-12-01T13:00:01Z"))
        let time = "13:00:01"
        let failed = RealtimeEvent(
            event: "failed", job: 42,
            message: PQJSON(text: #"{"attempt": 2, "error": "timed out after 5 s", "method": "orders.send", "queue": "short", "status": "failed"}"#))
        #expect(ProgressBoard.line(for: failed, at: noon, in: .gmt) == "\(time)  job 42 failed  orders.send on short, attempt 2: timed out after 5 s")
        let finished = RealtimeEvent(
            event: "finished", job: 42,
            message: PQJSON(text: #"{"attempt": 1, "error": null, "method": "orders.send", "queue": "short", "status": "finished"}"#))
        #expect(ProgressBoard.line(for: finished, at: noon, in: .gmt) == "\(time)  job 42 finished  orders.send on short, attempt 1")
        let custom = RealtimeEvent(
            event: "stock_sync_done", job: 7,
            message: PQJSON(text: #"{"total": 500, "errors": 29, "resumed": true, "note": "all outlets", "first": [1, 2]}"#))
        #expect(ProgressBoard.line(for: custom, at: noon, in: .gmt)
            == "\(time)  stock_sync_done  job 7  errors=29 first=[1,2] note=\"all outlets\" resumed=true total=500")
        let bare = RealtimeEvent(event: "marker", job: nil, message: PQJSON(text: "{}"))
        #expect(ProgressBoard.line(for: bare, at: noon, in: .gmt) == "\(time)  marker")
    }
}
