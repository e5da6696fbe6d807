import Foundation
@testable import Porter
import PorterPostgres
import PorterTesting
import Testing

// One test at a time: each runs workers or servers, and every suite shares one PostgreSQL's
// connections (max_connections 500).
@Suite(.serialized) struct StatsTests {
    /// The keys `porter stats --json` promises, per queue and at the top.
    static let queueKeys: Set<String> = [
        "queue", "queued", "scheduled", "deferred", "started", "failed_last_hour", "failed_last_day",
        "finished_per_minute", "lag_seconds", "wait_p50_seconds", "wait_p95_seconds", "run_p50_seconds",
        "run_p95_seconds", "paused",
    ]
    static let topKeys: Set<String> = ["queues", "workers", "slots_busy", "slots"]

    @Test func statsCountsEachQueuesJobsByStateAndAgeFromTheDatabase() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        // Rows as a busy system leaves them: due, delayed, a retry whose backoff is over,
        // deferred, running, failed at several ages, finished long ago.
        try await porter.pool.query("""
            INSERT INTO porter.jobs (method, queue, status, run_at, enqueued_at, started_at, ended_at, worker_id, depends_on) VALUES
                ('m', 'mail', 'queued', now() - interval '90 seconds', now() - interval '90 seconds', NULL, NULL, NULL, NULL),
                ('m', 'mail', 'queued', now() - interval '5 seconds', now() - interval '5 seconds', NULL, NULL, NULL, NULL),
                ('m', 'mail', 'scheduled', now() - interval '1 second', now() - interval '1 hour', NULL, NULL, NULL, NULL),
                ('m', 'mail', 'scheduled', now() + interval '1 hour', now(), NULL, NULL, NULL, NULL),
                ('m', 'mail', 'started', now(), now(), now(), NULL, 'w', NULL),
                ('m', 'mail', 'failed', now(), now(), now(), now() - interval '10 minutes', NULL, NULL),
                ('m', 'mail', 'failed', now(), now(), now(), now() - interval '5 hours', NULL, NULL),
                ('m', 'mail', 'failed', now(), now(), now(), now() - interval '2 days', NULL, NULL),
                ('m', 'mail', 'finished', now(), now(), now(), now() - interval '1 minute', NULL, NULL),
                ('m', 'sms', 'failed', now(), now(), now(), now() - interval '3 days', NULL, NULL)
            """)
        try await porter.pool.query("""
            INSERT INTO porter.jobs (method, queue, status, depends_on)
            SELECT 'm', 'mail', 'deferred', ARRAY[id] FROM porter.jobs WHERE status = 'started'
            """)
        let stats = try await porter.stats()
        let mail = try #require(stats[queue: "mail"])
        #expect(mail.queued == 3)  // the retry whose run_at has passed may run now
        #expect(mail.scheduled == 1)
        #expect(mail.deferred == 1)
        #expect(mail.started == 1)
        #expect(mail.failedLastHour == 1)
        #expect(mail.failedLastDay == 2)
        #expect(mail.lagSeconds >= 90 && mail.lagSeconds < 120, "\(mail.lagSeconds)")
        #expect(mail.paused == false)
        // No live worker: no throughput, no percentiles.
        #expect(mail.finishedPerMinute == 0 && mail.waitP50Seconds == nil && mail.runP95Seconds == nil)
        // A queue whose only jobs are old failures and finished history does not appear.
        #expect(stats[queue: "sms"] == nil)
        #expect(stats.workers == 0 && stats.slots == 0 && stats.slotsBusy == 0)
        await porter.close()
    }

    @Test func liveWorkersReportTheirThroughputPercentilesAndSlots() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        try await createGates(porter)
        let worker = RunningWorker(porter, fastConfiguration { $0.queues["default"]?.backgroundWorkers = 3 }, queues: ["default"])
        _ = try await porter.enqueueMany((0..<20).map { _ in EnqueueRequest(method: "sql:app.record") })
        try await waitUntil(timeout: .seconds(20), "20 jobs to finish") {
            try await count(porter, queue: "default", status: .finished) == 20
        }
        // Two slots held by jobs that wait for the test.
        for _ in 0..<2 { _ = try await porter.enqueue(method: "sql:app.wait_gate", args: PQJSON(text: #"{"gate": "later"}"#)) }
        var stats = try await porter.stats()
        try await waitUntil(timeout: .seconds(10), "the heartbeat to report the 20 jobs and 2 busy slots") {
            stats = try await porter.stats()
            return stats[queue: "default"]?.finishedPerMinute == 20 && stats.slotsBusy == 2
        }
        let queue = try #require(stats[queue: "default"])
        #expect(stats.workers == 1 && stats.slots == 3)
        #expect(queue.slots == 3 && queue.slotsBusy == 2 && queue.started == 2)
        let waitP50 = try #require(queue.waitP50Seconds)
        let waitP95 = try #require(queue.waitP95Seconds)
        let runP50 = try #require(queue.runP50Seconds)
        let runP95 = try #require(queue.runP95Seconds)
        #expect(waitP50 <= waitP95 && runP50 <= runP95)
        #expect(waitP95 < 30 && runP95 < 30)
        try await openGate("later", porter)
        try await worker.shutdown()
        // A stopped worker deregisters: it no longer counts, nor do its figures.
        let after = try await porter.stats()
        #expect(after.workers == 0 && after.slots == 0)
        // Nothing waits, runs or failed in it, and no live worker serves it: it is not listed.
        #expect(after[queue: "default"] == nil)
        await porter.close()
    }

    @Test func aWorkerSilentPastItsRescueAfterIsNotCountedLive() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.pool.query("""
            INSERT INTO porter.workers (id, host, pid, queues, heartbeat_at, stats) VALUES
                ('alive', 'h', 1, '{q}', now() - interval '5 seconds', '{"rescue_after": 20, "queues": {"q": {"slots": 4, "busy": 1, "finished": 7, "wait": {"80": 3}, "run": {"120": 1, "130": 1}}}}'),
                ('dead', 'h', 2, '{q}', now() - interval '25 seconds', '{"rescue_after": 20, "queues": {"q": {"slots": 8, "busy": 8, "finished": 100, "wait": {}, "run": {}}}}')
            """)
        let stats = try await porter.stats()
        #expect(stats.workers == 1 && stats.slots == 4 && stats.slotsBusy == 1)
        let queue = try #require(stats[queue: "q"])
        #expect(queue.finishedPerMinute == 7)
        // Bucket 80 stands for 0.1 ms × 2^(80.5/8); the p50 of run is its lower bucket, the p95 the upper.
        #expect(abs(try #require(queue.waitP50Seconds) - WorkerStatistics.seconds(ofBucket: 80)) < 0.001)
        #expect(abs(try #require(queue.runP50Seconds) - WorkerStatistics.seconds(ofBucket: 120)) < 0.01)
        #expect(abs(try #require(queue.runP95Seconds) - WorkerStatistics.seconds(ofBucket: 130)) < 0.01)
        let workers = try await porter.workers()
        #expect(workers.map(\.id) == ["alive", "dead"])
        #expect(workers.map(\.alive) == [true, false])
        #expect(workers[0].slots == 4 && workers[0].slotsBusy == 1)
        await porter.close()
    }

    @Test func sqlSwiftAndTheCLIGiveTheSameFiguresUnderThePromisedKeys() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        _ = try await porter.enqueue(method: "m", options: EnqueueOptions(queue: "mail"))
        try await porter.pauseQueue("mail")
        let sql = try await porter.pool.query("SELECT porter.stats()").single(PQJSON.self)
        let cli = try await runPorter(["stats", "--json", "--database-url", database.connectionString])
        #expect(cli.status == 0, "\(cli.output)")
        for text in [sql.text, cli.output] {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(Self.topKeys.isSubset(of: Set(object.keys)))
            let queues = try #require(object["queues"] as? [[String: Any]])
            let mail = try #require(queues.first { $0["queue"] as? String == "mail" })
            #expect(Self.queueKeys.isSubset(of: Set(mail.keys)), "\(mail.keys.sorted())")
            #expect(mail["queued"] as? Int == 1 && mail["paused"] as? Bool == true)
            #expect(mail["wait_p50_seconds"] is NSNull)
        }
        let swift = try await porter.stats()
        #expect(swift[queue: "mail"]?.queued == 1 && swift[queue: "mail"]?.paused == true)
        let table = try await runPorter(["stats", "--database-url", database.connectionString])
        #expect(table.status == 0 && table.output.contains("mail") && table.output.contains("paused"), "\(table.output)")
        await porter.close()
    }

    @Test func theReaderRoleReadsTheStatsButNoJobRow() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        _ = try await porter.enqueue(method: "m", options: EnqueueOptions(queue: "mail"))
        let role = "porter_stats_\(database.name)"
        try await porter.pool.query("CREATE ROLE \(identifier: role)")
        try await porter.pool.query("SELECT porter.grant_reader(\(role))")
        // The same server login, acting as the reader role, which may read no job's row.
        let reader = PorterClient(
            pool: PQPool(try PQConfiguration(database.connectionString + " options='-c role=\(role)'"), maximumConnections: 1))
        #expect(try await reader.stats()[queue: "mail"]?.queued == 1)
        // It reads the figures only, not the rows.
        await #expect(throws: PQError.self) { try await reader.pool.query("SELECT count(*) FROM porter.jobs") }
        await reader.close()
        try await porter.pool.query("SELECT porter.revoke_grants(\(role))")
        try await porter.pool.query("DROP OWNED BY \(identifier: role)")
        try await porter.pool.query("DROP ROLE \(identifier: role)")
        await porter.close()
    }

    @Test func workerStatisticsKeepTheLastMinutesCountAndFiveMinutesOfTimes() {
        let origin = ContinuousClock.now
        let statistics = WorkerStatistics(slots: ["q": 4], origin: origin)
        statistics.started(queue: "q", wait: 0.002, at: origin)
        statistics.started(queue: "q", wait: 0.004, at: origin + .seconds(30))
        #expect(statistics.report(at: origin + .seconds(30))["q"]?.busy == 2)
        statistics.freed(queue: "q")
        statistics.ended(queue: "q", finished: true, ran: .milliseconds(30), at: origin + .seconds(1))
        statistics.freed(queue: "q")
        statistics.ended(queue: "q", finished: false, ran: .milliseconds(40), at: origin + .seconds(31))
        var report = statistics.report(at: origin + .seconds(40))["q"]!
        #expect(report.slots == 4 && report.busy == 0)
        #expect(report.finished == 1)
        #expect(report.wait.values.reduce(0, +) == 2 && report.run.values.reduce(0, +) == 2)
        // A minute later the finish has left the count; the times stay for five minutes.
        report = statistics.report(at: origin + .seconds(65))["q"]!
        #expect(report.finished == 0 && report.run.values.reduce(0, +) == 2)
        report = statistics.report(at: origin + .seconds(6 * 60))["q"]!
        #expect(report.wait.isEmpty && report.run.isEmpty)
    }

    @Test func histogramBucketsMeanTheSameInSwiftAndSQL() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        for bucket in [0, 1, 8, 80, 133, 200, WorkerStatistics.maxBucket] {
            let sql = try await porter.pool.query("SELECT porter.stats_bucket_seconds(\(bucket))").single(Double.self)
            let swift = WorkerStatistics.seconds(ofBucket: bucket)
            #expect(abs(sql - swift) <= swift * 1e-9, "bucket \(bucket)")
            #expect(WorkerStatistics.bucket(seconds: swift) == bucket)
        }
        // Within 9 % of the time it stands for.
        for seconds in [0.0003, 0.0123, 0.5, 7.0, 3600.0] {
            let back = WorkerStatistics.seconds(ofBucket: WorkerStatistics.bucket(seconds: seconds))
            #expect(abs(back - seconds) / seconds < 0.09, "\(seconds)")
        }
        await porter.close()
    }
}
