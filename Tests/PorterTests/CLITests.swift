import Foundation
import Porter
import PorterTesting
import Testing

struct CLIResult: Sendable {
    var status: Int32
    var output: String
    /// The process died of a signal (a Swift trap is SIGILL or SIGTRAP) instead of exiting.
    var crashed = false
}

/// Runs the built `porter` executable (it sits beside the test bundle) and collects its output.
/// It runs in a fresh temporary directory, so that a command run without a database URL
/// starts its development server there, never in the package.
func runPorter(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) async throws -> CLIResult {
    let process = Process()
    process.executableURL = porterExecutable()
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    // The developer's own database settings must not reach a test's porter.
    for name in ["PORTER_DATABASE_URL", "DATABASE_URL", "PORTER_DEV_DIR"] + env.keys.filter({ $0.hasPrefix("PG") }) { env[name] = nil }
    env.merge(environment) { $1 }
    process.environment = env
    process.currentDirectoryURL = try directory ?? temporaryDirectory("porter-cli")
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("porter-cli-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: output.path, contents: nil)
    let handle = try FileHandle(forWritingTo: output)
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
    try handle.close()
    let text = try String(contentsOf: output, encoding: .utf8)
    try? FileManager.default.removeItem(at: output)
    return CLIResult(status: process.terminationStatus, output: text, crashed: process.terminationReason == .uncaughtSignal)
}

/// A new empty directory under the temporary directory.
func temporaryDirectory(_ prefix: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// A config file with `json` in it, in a fresh temporary folder.
func configFile(_ json: String) throws -> String {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("porter-config-\(UUID().uuidString).json")
    try Data(json.utf8).write(to: file)
    return file.path
}

@Suite struct CLITests {
    @Test func benchModesWorkTheirJobsAndEndWithKeyValueFigures() async throws {
        // Behaviour only (the figures on a test server with fsync off mean nothing): each mode
        // runs to the end and its last line carries the promised keys.
        let database = try await TestDatabase.create()
        let url = ["--database-url", database.connectionString]
        let modes: [([String], [String])] = [
            (["bench", "burndown", "--jobs", "300", "--concurrency", "10"],
             ["jobs=300", "jobs_per_s=", "baseline_jobs_per_s=", "raw_jobs_per_s=", "ratio_to_raw=", "machine_cpu_us_per_job="]),
            (["bench", "burndown", "--jobs", "300", "--concurrency", "10", "--no-baseline", "--no-job-events"],
             ["jobs=300", "jobs_per_s="]),
            (["bench", "latency", "--jobs", "20"], ["jobs=20", "p50_ms=", "p95_ms=", "p99_ms="]),
            (["bench", "continuous", "--seconds", "1", "--concurrency", "10"], ["seconds=1", "jobs_per_s=", "backlog="]),
            (["bench", "rescue", "--jobs", "400", "--workers", "2", "--concurrency", "4", "--job-ms", "20"],
             ["jobs=400", "killed_jobs=", "p50_s=", "max_s="]),
            // Last: its jobs stay queued in the default queue, with no worker for them.
            (["bench", "enqueue", "--samples", "20", "--batches", "2", "--batch-size", "50"],
             ["bare_insert_p50_ms=", "enqueue_p50_ms=", "enqueue_many_rows_per_s=", "sql_enqueue_many_rows_per_s=", "sql_enqueue_batch_rows_per_s="]),
        ]
        let porter = database.makeClient()
        for (arguments, keys) in modes {
            let result = try await runPorter(arguments + url)
            #expect(result.status == 0, "\(arguments): \(result.output)")
            let last = result.output.split(separator: "\n").last.map(String.init) ?? ""
            for key in keys { #expect(last.contains(key), "\(arguments): \(last)") }
            if arguments[1] == "burndown" {
                // Every job it enqueued finished (it checks that itself, and exits 1 if not).
                let left = try await porter.pool.query(
                    "SELECT count(*) FROM porter.jobs WHERE queue = 'bench' AND status <> 'finished'").single(Int.self)
                #expect(left == 0, "\(arguments)")
                // The raw loop's table is gone with its schema.
                #expect(try await porter.pool.query(
                    "SELECT count(*) FROM pg_namespace WHERE nspname = 'porter_bench'").single(Int.self) == 0)
            }
        }
        await porter.close()
    }

    @Test func enqueuePrintsTheNewJobsIdAndStoresTheOptions() async throws {
        let database = try await TestDatabase.create()
        let result = try await runPorter([
            "enqueue", "app.tasks.sync_stock", "--args", #"{"outlet": "A1"}"#, "--queue", "short", "--job-id", "sync-A1",
            "--at-front", "--timeout", "60", "--priority", "2", "--run-at", "+5m", "--database-url", database.connectionString,
        ])
        #expect(result.status == 0, "\(result.output)")
        let id = try #require(Int64(result.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        let porter = database.makeClient()
        let job = try #require(try await porter.job(id: id))
        #expect(job.method == "app.tasks.sync_stock")
        #expect(job.queue == "short" && job.jobID == "sync-A1" && job.atFront && job.timeout == 60 && job.priority == 2)
        #expect(job.status == .scheduled)
        #expect(job.args.text == #"{"outlet": "A1"}"#)
        await porter.close()
    }

    @Test func enqueueWithDependsOnDefersTheJob() async throws {
        let database = try await TestDatabase.create()
        let parent = try await runPorter(["enqueue", "app.a", "--database-url", database.connectionString])
        let parentID = try #require(Int64(parent.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        let child = try await runPorter(["enqueue", "app.b", "--depends-on", "\(parentID)", "--database-url", database.connectionString])
        let childID = try #require(Int64(child.output.trimmingCharacters(in: .whitespacesAndNewlines)), "\(child.output)")
        let porter = database.makeClient()
        let job = try #require(try await porter.job(id: childID))
        #expect(job.status == .deferred && job.dependsOn == [parentID])
        let bad = try await runPorter(["enqueue", "app.b", "--depends-on", "41,x", "--database-url", database.connectionString])
        #expect(bad.status != 0 && bad.output.contains("--depends-on takes job ids"), "\(bad.output)")
        await porter.close()
    }

    @Test func commandsOnAnUnmigratedDatabaseSayToMigrate() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let enqueue = try await runPorter(["enqueue", "m", "--database-url", database.connectionString])
        #expect(enqueue.status != 0)
        #expect(enqueue.output.contains("run `porter migrate`"), "\(enqueue.output)")
        let worker = try WorkerProcess(database: database, config: "{}")
        #expect(try await worker.waitForExit() != 0)
        #expect(worker.output.contains("run `porter migrate`"), "\(worker.output)")
    }

    @Test func enqueueRefusesArgsThatAreNotAJSONObject() async throws {
        let database = try await TestDatabase.create()
        for args in ["[1, 2]", "42", "{not json"] {
            let result = try await runPorter(["enqueue", "m", "--args", args, "--database-url", database.connectionString])
            #expect(result.status != 0)
            #expect(result.output.contains("--args"), "\(result.output)")
        }
        #expect(try await jobCount(database) == 0)
    }

    @Test func enqueueWithDeduplicatePrintsNothingForADuplicate() async throws {
        let database = try await TestDatabase.create()
        let arguments = ["enqueue", "m", "--job-id", "once", "--deduplicate", "--database-url", database.connectionString]
        let first = try await runPorter(arguments)
        let second = try await runPorter(arguments)
        #expect(first.status == 0 && Int64(first.output.trimmingCharacters(in: .whitespacesAndNewlines)) != nil)
        #expect(second.status == 0)
        #expect(second.output.contains("already queued or running"))
        #expect(try await jobCount(database) == 1)
    }

    @Test func jobsAndJobShowWhatIsQueued() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let id = try #require(try await porter.enqueue(method: "reports.daily", options: EnqueueOptions(queue: "long")).id)
        try await porter.enqueue(method: "other.thing")
        await porter.close()

        let jobs = try await runPorter(["jobs", "--queue", "long", "--status", "queued"], environment: ["PORTER_DATABASE_URL": database.connectionString])
        #expect(jobs.status == 0)
        #expect(jobs.output.contains("reports.daily"))
        #expect(!jobs.output.contains("other.thing"))

        let job = try await runPorter(["job", String(id), "--json"], environment: ["DATABASE_URL": database.connectionString])
        #expect(job.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(job.output.utf8)) as? [String: Any]
        #expect(object?["method"] as? String == "reports.daily")
        #expect(object?["status"] as? String == "queued")

        let missing = try await runPorter(["job", "999999", "--database-url", database.connectionString])
        #expect(missing.status != 0)
        #expect(missing.output.contains("no job has id 999999"))

        let badStatus = try await runPorter(["jobs", "--status", "done", "--database-url", database.connectionString])
        #expect(badStatus.status != 0)
        #expect(badStatus.output.contains("unknown status done"))
    }

    // The finding's traps, through the real binary: each one crashed the process (a trap in
    // a worker loses it and the jobs it holds). Each must now exit with a usage error that
    // names the flag or key and the allowed range.

    @Test func enqueueWithAHugeRunAtDelayIsRefusedInsteadOfCrashing() async throws {
        let result = try await runPorter(["enqueue", "m", "--run-at", "+99999999999999999d"])
        #expect(!result.crashed, "\(result.output)")
        #expect(result.status == 64, "\(result.output)")
        #expect(result.output.contains("--run-at +99999999999999999d is too far ahead; use a delay of at most 100 years"), "\(result.output)")
    }

    @Test func workerWithAHugeDurationInItsConfigStopsWithTheKeyInsteadOfCrashing() async throws {
        let result = try await runPorter(["worker", "--config", try configFile(#"{"poll_interval": 1e300}"#)])
        #expect(!result.crashed, "\(result.output)")
        #expect(result.status != 0)
        #expect(
            result.output.contains("config key poll_interval: 1e+300 is out of range; use a number of seconds from 0.01 to 86400"),
            "\(result.output)")
    }

    @Test func workerWithBackgroundWorkersNearInt64MaxStopsWithTheKeyInsteadOfCrashing() async throws {
        let config = try configFile(#"{"workers": {"default": {"background_workers": 9223372036854775807}}}"#)
        let result = try await runPorter(["worker", "--config", config, "--queue", "default"])
        #expect(!result.crashed, "\(result.output)")
        #expect(result.status != 0)
        #expect(
            result.output.contains("config key workers.default.background_workers: 9223372036854775807 is out of range; use a whole number from 1 to 10000"),
            "\(result.output)")
    }

    @Test func schedulerWithAHugeTickIntervalStopsWithTheKeyInsteadOfCrashing() async throws {
        let result = try await runPorter(["scheduler", "--config", try configFile(#"{"scheduler_tick_interval": 1e300}"#)])
        #expect(!result.crashed, "\(result.output)")
        #expect(result.status != 0)
        #expect(result.output.contains("config key scheduler_tick_interval: 1e+300 is out of range"), "\(result.output)")
    }

    @Test func enqueueStoresTheLargestNumbersTheColumnsHoldAndRefusesLargerOnesByFlag() async throws {
        let database = try await TestDatabase.create()
        let stored = try await runPorter([
            "enqueue", "m", "--timeout", "2147483", "--priority=-2147483648", "--max-attempts", "2147483647",
            "--run-at", "+36525d", "--database-url", database.connectionString,
        ])
        #expect(stored.status == 0, "\(stored.output)")
        let id = try #require(Int64(stored.output.trimmingCharacters(in: .whitespacesAndNewlines)), "\(stored.output)")
        let porter = database.makeClient()
        let job = try #require(try await porter.job(id: id))
        #expect(job.timeout == 2_147_483 && job.priority == -2_147_483_648 && job.maxAttempts == 2_147_483_647)
        #expect(job.status == .scheduled)
        await porter.close()
        for (arguments, message) in [
            (["--priority", "2147483648"], "--priority 2147483648 is out of range; use a whole number from -2147483648 to 2147483647."),
            (["--max-attempts", "2147483648"], "--max-attempts 2147483648 is out of range; use a whole number from 1 to 2147483647."),
            (["--timeout", "0"], "--timeout 0 is out of range; use a whole number of seconds from 1 to 2147483."),
        ] {
            let refused = try await runPorter(["enqueue", "m"] + arguments + ["--database-url", database.connectionString])
            #expect(!refused.crashed && refused.status == 64, "\(arguments): \(refused.output)")
            #expect(refused.output.contains(message), "\(arguments): \(refused.output)")
        }
        #expect(try await jobCount(database) == 1)
    }
}
