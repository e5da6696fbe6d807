import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

@Suite struct ScheduleConfigurationTests {
    func parse(_ json: String) throws -> ScheduleConfiguration {
        try ScheduleConfiguration.parse(Data(json.utf8))
    }

    @Test func frappesKeysAreReadWithLongRoutingAndAnnualAsYearly() throws {
        let configuration = try parse("""
            {"scheduler_tick_interval": 30, "scheduler_timezone": "Asia/Kolkata",
             "scheduler_events": {"all": ["a.poll"], "daily": ["a.cleanup"], "daily_long": ["a.rebuild"],
                                  "annual": ["a.archive"], "cron": {"15 18 * * *": ["a.report"], "@hourly": ["a.sync"]}},
             "workers": {"long": {"timeout": 10}}}
            """)
        #expect(configuration.tickInterval == .seconds(30))
        #expect(configuration.timeZone.identifier == "Asia/Kolkata")
        let byMethod = Dictionary(uniqueKeysWithValues: configuration.events.map { ($0.method, $0) })
        #expect(byMethod["a.poll"]?.timing == .everyTick)
        #expect(byMethod["a.cleanup"]?.queue == "default")
        #expect(byMethod["a.rebuild"]?.queue == "long")
        #expect(byMethod["a.rebuild"]?.name == "daily_long")
        #expect(byMethod["a.archive"]?.name == "yearly")
        #expect(byMethod["a.report"]?.name == "cron:15 18 * * *")
        #expect(byMethod["a.sync"]?.name == "cron:@hourly")
    }

    @Test func badConfigIsRefusedNamingTheKeyOrField() throws {
        let cron = #expect(throws: ConfigurationError.self) {
            try parse(#"{"scheduler_events": {"cron": {"15 25 * * *": ["a.report"]}}}"#)
        }
        #expect(cron?.description.contains("\"15 25 * * *\"") == true)
        #expect(cron?.description.contains("hour field") == true)
        let event = #expect(throws: ConfigurationError.self) { try parse(#"{"scheduler_events": {"dailly": ["x"]}}"#) }
        #expect(event?.key == "scheduler_events.dailly")
        #expect(event?.message.contains("did you mean daily?") == true)
        let zone = #expect(throws: ConfigurationError.self) { try parse(#"{"scheduler_timezone": "Mars/Olympus"}"#) }
        #expect(zone?.key == "scheduler_timezone")
        let never = #expect(throws: ConfigurationError.self) { try parse(#"{"scheduler_events": {"cron": {"0 0 30 2 *": ["x"]}}}"#) }
        #expect(never?.message.contains("never fires") == true)
        #expect(throws: ConfigurationError.self) { try parse(#"{"scheduler_events": {"daily": "x"}}"#) }
    }

    // It trapped in the conversion to a Duration, taking down the scheduler (and a worker
    // started with --scheduler).
    @Test func aHugeTickIntervalIsRefusedNamingTheKeyAndTheRange() throws {
        let error = #expect(throws: ConfigurationError.self) { try parse(#"{"scheduler_tick_interval": 1e300}"#) }
        #expect(
            error?.description
                == "config key scheduler_tick_interval: 1e+300 is out of range; use a number of seconds from 0.1 to 86400 (1 day)")
    }
}

@Suite struct SchedulerTests {
    static let start = Date(timeIntervalSince1970: 1_767_258_000)  // 2026-01-01T09:00:00Z, a Thursday

    func makeScheduler(_ porter: PorterClient, _ events: [(String, String)]) throws -> Scheduler {
        var configuration = ScheduleConfiguration()
        for (event, method) in events { try configuration.add(event, method: method) }
        return Scheduler(client: porter, configuration: configuration)
    }

    func jobs(_ porter: PorterClient, _ method: String) async throws -> Int {
        try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE method = \(method)").single(Int.self)
    }

    /// Marks every job finished, as a worker would, so no method counts as stuck.
    func finishAll(_ porter: PorterClient) async throws {
        try await porter.pool.query("UPDATE porter.jobs SET status = 'finished', ended_at = now() WHERE status IN ('queued', 'scheduled')")
    }

    @Test func threeSchedulersFireEachEventExactlyOnce() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient(maximumConnections: 12)
        let events = [("all", "t.poll"), ("hourly", "t.sync"), ("daily", "t.cleanup")]
        let schedulers = try (0..<3).map { _ in try makeScheduler(porter, events) }
        for scheduler in schedulers { try await scheduler.register(now: Self.start) }
        // 180 ticks of a minute: three hours, crossing no midnight.
        for minute in 1...180 {
            let now = Self.start.addingTimeInterval(Double(minute) * 60)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for scheduler in schedulers { group.addTask { try await scheduler.tick(now: now) } }
                try await group.waitForAll()
            }
            try await finishAll(porter)
        }
        #expect(try await jobs(porter, "t.poll") == 180)
        #expect(try await jobs(porter, "t.sync") == 3)
        #expect(try await jobs(porter, "t.cleanup") == 0)
        let fires = try await porter.pool.query("SELECT count(*), count(DISTINCT job) FROM porter.schedule_fires").first
        let (count, distinctJobs) = try #require(try fires?.decode((Int, Int).self))
        #expect(count == 183 && distinctJobs == 183)
        await porter.close()
    }

    @Test func aMissedEventFiresOnceAfterDowntimeAndNeverEarly() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let scheduler = try makeScheduler(porter, [("hourly", "t.sync")])
        try await scheduler.register(now: Self.start.addingTimeInterval(30 * 60))  // 09:30
        // Not before its time: nothing at 09:59.
        #expect(try await scheduler.tick(now: Self.start.addingTimeInterval(59 * 60)).fired.isEmpty)
        // Down from 09:59 until 15:10: five hourly fires were missed; one run happens.
        let late = try await scheduler.tick(now: Self.start.addingTimeInterval(6 * 3600 + 10 * 60))
        #expect(late.fired.count == 1)
        #expect(late.fired.first?.fireAt == Self.start.addingTimeInterval(6 * 3600))  // 15:00, the latest missed
        #expect(try await jobs(porter, "t.sync") == 1)
        // A restarted scheduler does not fire it again, and the next run is at 16:00.
        let restarted = try makeScheduler(porter, [("hourly", "t.sync")])
        try await restarted.register(now: Self.start.addingTimeInterval(6 * 3600 + 20 * 60))
        try await finishAll(porter)
        #expect(try await restarted.tick(now: Self.start.addingTimeInterval(6 * 3600 + 30 * 60)).fired.isEmpty)
        #expect(try await restarted.entries().first?.nextFireAt == Self.start.addingTimeInterval(7 * 3600))
        await porter.close()
    }

    @Test func aStuckMethodIsSkippedWhileTheOthersFire() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let scheduler = try makeScheduler(porter, [("all", "t.stuck"), ("all", "t.fine")])
        try await scheduler.register(now: Self.start)
        let first = try await scheduler.tick(now: Self.start.addingTimeInterval(60))
        #expect(first.fired.count == 2)
        // t.fine's run finishes; t.stuck's stays queued.
        try await porter.pool.query("UPDATE porter.jobs SET status = 'finished', ended_at = now() WHERE method = 't.fine'")
        let second = try await scheduler.tick(now: Self.start.addingTimeInterval(120))
        #expect(second.fired.map(\.method) == ["t.fine"])
        #expect(second.skipped == ["all t.stuck"])
        #expect(try await jobs(porter, "t.stuck") == 1)
        #expect(try await jobs(porter, "t.fine") == 2)
        await porter.close()
    }

    @Test func longEventsRunOnTheLongQueue() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let scheduler = try makeScheduler(porter, [("daily_long", "t.rebuild"), ("daily", "t.cleanup")])
        try await scheduler.register(now: Self.start)
        let result = try await scheduler.tick(now: Self.start.addingTimeInterval(15 * 3600 + 60))  // past midnight
        #expect(result.fired.count == 2)
        let queues = try await porter.pool.query("SELECT method, queue FROM porter.jobs ORDER BY method").map { try $0.decode((String, String).self) }
        #expect(queues.map(\.0) == ["t.cleanup", "t.rebuild"] && queues.map(\.1) == ["default", "long"])
        await porter.close()
    }

    @Test func anEntryRemovedFromTheConfigStopsOnTheNextStart() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await makeScheduler(porter, [("all", "t.keep"), ("all", "t.drop")]).register(now: Self.start)
        let restarted = try makeScheduler(porter, [("all", "t.keep")])
        try await restarted.register(now: Self.start)
        let result = try await restarted.tick(now: Self.start.addingTimeInterval(60))
        #expect(result.fired.map(\.method) == ["t.keep"])
        #expect(try await porter.pool.query("SELECT array_agg(method) FROM porter.schedule").single([String].self) == ["t.keep"])
        await porter.close()
    }

    @Test func cronEventsFollowTheConfiguredTimeZone() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        var configuration = ScheduleConfiguration(timeZone: TimeZone(identifier: "Asia/Kolkata")!)
        try configuration.add(cron: "15 18 * * *", method: "t.report")
        let scheduler = Scheduler(client: porter, configuration: configuration)
        try await scheduler.register(now: Self.start)  // 09:00Z is 14:30 in Kolkata
        // 18:15 IST is 12:45Z.
        #expect(try await scheduler.entries().first?.nextFireAt == Self.start.addingTimeInterval(3 * 3600 + 45 * 60))
        #expect(try await scheduler.tick(now: Self.start.addingTimeInterval(3 * 3600 + 44 * 60)).fired.isEmpty)
        #expect(try await scheduler.tick(now: Self.start.addingTimeInterval(3 * 3600 + 45 * 60)).fired.count == 1)
        await porter.close()
    }
}

@Suite(.serialized) struct SchedulerProcessTests {
    @Test func scheduleListsEveryEventWithItsLastAndNextFire() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("porter-schedule-\(UUID().uuidString).json")
        try Data(#"{"scheduler_events": {"daily_long": ["t.rebuild"], "cron": {"*/6 * * * *": ["t.sync"]}}}"#.utf8).write(to: folder)
        let result = try await runPorter(["schedule", "--config", folder.path, "--database-url", database.connectionString])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("daily_long") && result.output.contains("t.rebuild") && result.output.contains("long"))
        #expect(result.output.contains("cron:*/6 * * * *") && result.output.contains("t.sync"))
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("porter-schedule-\(UUID().uuidString).json")
        try Data(#"{"scheduler_events": {"cron": {"*/6 * * JANUARY *": ["t.sync"]}}}"#.utf8).write(to: bad)
        let refused = try await runPorter(["scheduler", "--config", bad.path, "--database-url", database.connectionString])
        #expect(refused.status != 0)
        #expect(refused.output.contains("\"*/6 * * JANUARY *\"") && refused.output.contains("month field"), "\(refused.output)")
    }

    @Test func twoSchedulerProcessesEnqueueOneJobPerTick() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let config = """
            {"scheduler_tick_interval": 1, "scheduler_events": {"all": ["porter.noop"]},
             "poll_interval": 0.2, "heartbeat_interval": 0.3, "rescue_after": 4}
            """
        let worker = try WorkerProcess(database: database, config: config)
        // The worker registers before the schedulers start, so that the first fires' jobs
        // have a worker to run them rather than holding back the fires after them.
        try await waitUntil(timeout: .seconds(60), "the worker to register") {
            try await porter.pool.query("SELECT count(*) FROM porter.workers").single(Int.self) == 1
        }
        let schedulers = try (0..<2).map { _ in try WorkerProcess(database: database, config: config, command: "scheduler") }
        try await waitUntil(timeout: .seconds(30), "eight ticks to fire") {
            try await porter.pool.query("SELECT count(*) FROM porter.schedule_fires").single(Int.self) >= 8
        }
        for process in schedulers + [worker] { process.kill(SIGTERM) }
        for process in schedulers + [worker] { #expect(try await process.waitForExit() == 0, "\(process.output)") }
        // One job per fire, one fire per tick slot, and every tick slot between the first
        // and the last fired (none lost, none doubled).
        let row = try #require(try await porter.pool.query("""
            SELECT count(*), count(DISTINCT fire_at), count(job),
                   extract(epoch FROM max(fire_at) - min(fire_at))::int + 1
            FROM porter.schedule_fires
            """).first)
        let (fires, slots, withJob, span) = try row.decode((Int, Int, Int, Int).self)
        #expect(fires == slots)
        #expect(fires == span)
        let jobs = try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE method = 'porter.noop'").single(Int.self)
        #expect(jobs == withJob)
        #expect(withJob >= 2)
        // A fire enqueues nothing only while the job of an earlier fire is still queued or
        // running (job_id `scheduled:<method>` is unique among active jobs). How many fires
        // that skips depends on how fast the worker runs the jobs on a loaded machine, so
        // each skip is checked against the job that explains it, not counted. A job's
        // ended_at is read when its end statement starts, a moment before the row changes,
        // hence the half second.
        let unexplained = try await porter.pool.query("""
            SELECT array_agg(f.fire_at ORDER BY f.fire_at)::text FROM porter.schedule_fires AS f
            WHERE f.job IS NULL AND NOT EXISTS (
                SELECT FROM porter.schedule_fires AS earlier JOIN porter.jobs AS j ON j.id = earlier.job
                WHERE earlier.fire_at < f.fire_at
                  AND (j.ended_at IS NULL OR j.ended_at > f.fired_at - interval '0.5 seconds'))
            """).single(String?.self)
        #expect(unexplained == nil, "fires that enqueued nothing while no earlier fire's job was active")
        await porter.close()
    }
}
