import Foundation
import PorterPostgres
import PorterTesting
import Testing

@testable import Porter

/// Flow control (issue 20): limits set in the database, held by the claim across every worker.
@Suite(.serialized) struct FlowControlTests {
    /// Worker processes serving the `limited` queue with 4 slots each.
    static let config = """
        {"sql_schemas": ["app"], "workers": {"limited": {"background_workers": 4}},
         "poll_interval": 0.2, "heartbeat_interval": 0.3, "rescue_after": 4, "maintenance_interval": 0.3,
         "shutdown_grace": 5}
        """

    /// `app.span` sleeps `sleep` seconds and records when its handler started and ended, by the
    /// database's clock, in app.spans: overlap is measured from the jobs' own run, not from rows.
    static func createSpans(_ porter: PorterClient) async throws {
        try await createSQLJobs(porter)
        try await porter.pool.query("CREATE TABLE app.spans (job bigint, key text, started timestamptz, ended timestamptz)")
        try await porter.pool.query("""
            CREATE FUNCTION app.span(args jsonb) RETURNS void LANGUAGE plpgsql AS $$
            DECLARE
                began timestamptz := clock_timestamp();
            BEGIN
                -- first_sleep: on the first run only, until a rescue gives the job back.
                IF args ? 'first_sleep' AND (SELECT orphaned FROM porter.jobs WHERE id = porter.current_job_id()) = 0 THEN
                    PERFORM pg_sleep((args->>'first_sleep')::float8);
                END IF;
                PERFORM pg_sleep((args->>'sleep')::float8);
                INSERT INTO app.spans VALUES (porter.current_job_id(), args->>'key', began, clock_timestamp());
            END $$
            """)
    }

    /// The most spans running at one instant, over all of them or within each key. An end and a
    /// start at the same instant do not overlap.
    static func maxOverlap(_ porter: PorterClient, perKey: Bool) async throws -> Int {
        try await porter.pool.query("""
            SELECT coalesce(max(running), 0)::int FROM (
                SELECT sum(d) OVER (PARTITION BY CASE WHEN \(perKey) THEN key END ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS running
                FROM (SELECT key, started AS t, 1 AS d FROM app.spans UNION ALL SELECT key, ended, -1 FROM app.spans) AS e
            ) AS s
            """).single(Int.self)
    }

    static func spanJob(key: String?, sleep: Double = 0.1, firstSleep: Double? = nil) -> EnqueueRequest {
        let keyField = key.map { ", \"key\": \"\($0)\"" } ?? ""
        let firstField = firstSleep.map { ", \"first_sleep\": \($0)" } ?? ""
        return EnqueueRequest(
            method: "sql:app.span", args: PQJSON(text: "{\"sleep\": \(sleep)\(keyField)\(firstField)}"),
            options: EnqueueOptions(queue: "limited", limitKey: key))
    }

    /// Claims as a worker does, with the worker's own statement.
    static func claim(_ porter: PorterClient, queue: String, limit: Int, worker: String = "test-worker") async throws -> [ClaimedJob] {
        try ClaimedJob.answer(try await porter.pool.query(JobRunQueries.claimAvailable(queue: queue, limit: limit, workerID: worker))).jobs
    }

    /// Claim times (started_at is the claim's moment) closer than a rate of 2 per second
    /// allows: starts apart by two others less than a second apart.
    static func startsBreakingTwoPerSecond(_ porter: PorterClient) async throws -> Int {
        try await porter.pool.query("""
            SELECT count(*) FROM (
                SELECT started_at, lead(started_at, 2) OVER (ORDER BY started_at) AS third FROM porter.jobs
            ) AS s WHERE third - started_at < interval '1 second'
            """).single(Int.self)
    }

    static func keys(_ porter: PorterClient, of claimed: [ClaimedJob]) async throws -> [String] {
        let ids = claimed.map(\.id)
        return try await porter.pool.query(
            "SELECT coalesce(limit_key, '-') FROM porter.jobs WHERE id = ANY(\(ids)::bigint[]) ORDER BY id"
        ).map { try $0.decode(String.self, at: 0) }
    }

    // MARK: Limits as rows

    @Test func setLimitRefusesEachBadInputAndStoresNothing() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let bad: [(call: String, column: String)] = [
            ("porter.set_limit('q', max_running => 0)", "max_running"),
            ("porter.set_limit('q', max_running => -5)", "max_running"),
            ("porter.set_limit('q', max_starts => 0, per => interval '1 minute')", "max_starts"),
            ("porter.set_limit('q', max_starts => 10)", "per"),
            ("porter.set_limit('q', per => interval '1 minute')", "max_starts"),
            ("porter.set_limit('q', max_starts => 10, per => interval '0')", "per"),
            ("porter.set_limit('q', max_starts => 10, per => interval '-1 second')", "per"),
            // A window no claim's clock can subtract: every claim of the queue would fail.
            ("porter.set_limit('q', max_starts => 10, per => interval '1000000 years')", "per"),
            ("porter.set_limit('q', limit_key => 'k', each_key => true, max_running => 1)", "each_key"),
            ("porter.set_limit('q', limit_key => repeat('k', 257), max_running => 1)", "limit_key"),
            ("porter.set_limit('q', limit_key => '', max_running => 1)", "limit_key"),
            ("porter.set_limit('q', limit_key => 'k', fair => true)", "fair"),
            ("porter.set_limit('q')", "max_running"),
            ("porter.set_limit('', max_running => 1)", "queue"),
            ("porter.set_limit(NULL::text, max_running => 1)", "queue"),
        ]
        for (call, column) in bad {
            let error = try await #require(throws: PQError.self, "\(call)") { try await porter.pool.query("SELECT \(unsafeRaw: call)") }
            #expect(error.column == column, "\(call): \(error.message)")
            #expect(error.sqlState == .invalidParameterValue || error.sqlState == .programLimitExceeded
                || error.sqlState == .nullValueNotAllowed, "\(call): \(error.message)")
        }
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.queue_limits").single(Int.self) == 0)
        // The Swift API refuses the same way, naming the parameter, also values that the
        // statement's integer and interval parameters could not carry.
        for (limit, parameter) in [
            (QueueLimit(queue: "q", maxRunning: Int.max), "max_running"),
            (QueueLimit(queue: "q", maxRunning: Int.min), "max_running"),
            (QueueLimit(queue: "q", maxStarts: Int(Int32.max) + 1, perSeconds: 60), "max_starts"),
            (QueueLimit(queue: "q", maxStarts: 1, perSeconds: .nan), "per"),
            (QueueLimit(queue: "q", maxStarts: 1, perSeconds: .infinity), "per"),
            (QueueLimit(queue: "q", maxStarts: 1, perSeconds: 1e300), "per"),
        ] {
            await #expect {
                try await porter.setLimit(limit)
            } throws: { error in
                (error as? PorterError)?.code == .invalidArgument(parameter: parameter)
            }
        }
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.queue_limits").single(Int.self) == 0)
        await #expect {
            try await porter.setLimit(QueueLimit(queue: "q", maxRunning: 0))
        } throws: { error in
            (error as? PorterError)?.code == .invalidArgument(parameter: "max_running")
        }
        #expect(try await porter.limits().isEmpty)
        // The owner's byte limits keep their own porter.set_limit(name, value).
        try await porter.pool.query("SELECT porter.set_limit('max_method_bytes', 300)")
        #expect(try await porter.pool.query("SELECT max_method_bytes FROM porter.settings").single(Int.self) == 300)
    }

    @Test func setLimitReplacesAScopeAndClearLimitRemovesIt() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.setLimit(QueueLimit(queue: "sms", maxStarts: 100, perSeconds: 60))
        try await porter.setLimit(QueueLimit(queue: "stock", eachKey: true, maxRunning: 1))
        try await porter.setLimit(QueueLimit(queue: "stock", limitKey: "franchise:7", maxRunning: 3))
        try await porter.setLimit(QueueLimit(queue: "stock", maxRunning: 20, fair: true))
        try await porter.setLimit(QueueLimit(queue: "stock", maxRunning: 10, fair: true))
        #expect(try await porter.limits() == [
            QueueLimit(queue: "sms", maxStarts: 100, perSeconds: 60),
            QueueLimit(queue: "stock", maxRunning: 10, fair: true),
            QueueLimit(queue: "stock", eachKey: true, maxRunning: 1),
            QueueLimit(queue: "stock", limitKey: "franchise:7", maxRunning: 3),
        ])
        #expect(try await porter.pool.query("SELECT scope FROM porter.limits WHERE each_key").single(String.self) == "each key")
        #expect(try await porter.clearLimit(queue: "stock", eachKey: true))
        #expect(try await !porter.clearLimit(queue: "stock", eachKey: true))
        #expect(try await porter.clearLimit(queue: "stock", limitKey: "franchise:7"))
        #expect(try await porter.clearLimit(queue: "stock"))
        #expect(try await porter.limits() == [QueueLimit(queue: "sms", maxStarts: 100, perSeconds: 60)])
        // A queue's claim log is kept only while a rate counts it.
        try await porter.pool.query("INSERT INTO porter.limit_starts (queue, started_at) VALUES ('sms', now())")
        try await porter.setLimit(QueueLimit(queue: "sms", maxRunning: 5))
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.limit_starts").single(Int.self) == 0)
    }

    @Test func limitKeyIsStoredByEveryEnqueuePathAndRefusedLikeAMethodName() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let one = try await porter.enqueue(method: "app.sync", options: EnqueueOptions(queue: "stock", limitKey: "franchise:1"))
        let many = try await porter.enqueueMany([
            EnqueueRequest(method: "app.sync", options: EnqueueOptions(queue: "stock", limitKey: "franchise:2")),
            EnqueueRequest(method: "app.sync", options: EnqueueOptions(queue: "stock")),
        ])
        let sql = try await porter.pool.query(
            "SELECT porter.enqueue('app.sync', queue => 'stock', limit_key => 'franchise:3')").single(Int64.self)
        let ids = [one.id, many[0].id, many[1].id, sql].compactMap { $0 }
        let keys = try await porter.pool.query(
            "SELECT coalesce(limit_key, '-') FROM porter.jobs WHERE id = ANY(\(ids)::bigint[]) ORDER BY id"
        ).map { try $0.decode(String.self, at: 0) }
        #expect(keys == ["franchise:1", "franchise:2", "-", "franchise:3"])

        let tooLong = String(repeating: "k", count: 257)
        for request in [
            EnqueueRequest(method: "app.sync", options: EnqueueOptions(limitKey: tooLong)),
            EnqueueRequest(method: "app.sync", options: EnqueueOptions(limitKey: "")),
        ] {
            await #expect {
                try await porter.enqueue(request)
            } throws: { error in
                (error as? PorterError)?.code == .invalidArgument(parameter: "limit_key")
            }
            await #expect {
                try await porter.enqueueMany([EnqueueRequest(method: "app.ok"), request])
            } throws: { error in
                (error as? PorterError)?.code == .invalidArgument(parameter: "limit_key")
            }
        }
        let methodError = try await #require(throws: PQError.self) {
            try await porter.pool.query("SELECT porter.enqueue(\(tooLong))")
        }
        let keyError = try await #require(throws: PQError.self) {
            try await porter.pool.query("SELECT porter.enqueue('app.sync', limit_key => \(tooLong))")
        }
        #expect(keyError.sqlState == methodError.sqlState)
        #expect(keyError.message == methodError.message.replacingOccurrences(of: "method", with: "limit_key"))
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs").single(Int.self) == 4)
    }

    @Test func theWorkerRoleSetsLimitsAndRunsALimitedQueueTheReaderReadsThemTheEnqueuerMayNot() async throws {
        let setup = try await RoleSetup.make()
        var registry = JobRegistry()
        registry.register(method: "shop.noop") { _, _ in nil }
        let asWorker = try setup.worker(registry: registry)
        try await asWorker.setLimit(QueueLimit(queue: "default", eachKey: true, maxRunning: 1))
        // A rate and fair turns too, so the claim writes its log and its turn as the worker.
        try await asWorker.setLimit(QueueLimit(queue: "default", maxStarts: 100, perSeconds: 60, fair: true))
        let ids = try await setup.app.enqueueMany([nil, "tenant:1", "tenant:1", "tenant:2"].map {
            EnqueueRequest(method: "shop.noop", options: EnqueueOptions(limitKey: $0))
        }).compactMap(\.id)
        let worker = RunningWorker(asWorker, fastConfiguration())
        for id in ids { try await waitForJob(setup.owner, id, .finished) }
        try await worker.shutdown()
        #expect(try await setup.reader.limits().count == 2)
        #expect(try await setup.reader.stats().limits.count == 2)
        for sql in [
            "SELECT porter.set_limit('default', max_running => 1)", "SELECT porter.clear_limit('default')",
            "INSERT INTO porter.queue_limits (queue, max_running) VALUES ('x', 1)",
        ] {
            await expectRefused(sql, on: setup.app)
            await expectRefused(sql, on: setup.reader)
        }
        #expect(try await asWorker.clearLimit(queue: "default", eachKey: true))
        #expect(try await setup.owner.clearLimit(queue: "default"))
        // The enqueuer debounces through porter.enqueue, with no right on any table.
        let debounced = EnqueueOptions(queue: "search", jobID: "reindex:1", debounce: .seconds(5))
        let first = try await setup.app.enqueue(method: "search.reindex", options: debounced).id
        let second = try await setup.app.enqueue(method: "search.reindex", options: debounced).id
        #expect(first != nil && first == second)
        await asWorker.close()
        await setup.close()
    }

    // MARK: The claim

    @Test func jobsOfAFullKeyHoldBackNeitherOtherKeysNorUnkeyedJobs() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.setLimit(QueueLimit(queue: "limited", limitKey: "big", maxRunning: 1))
        _ = try await porter.enqueueMany((0..<20).map { _ in
            EnqueueRequest(method: "app.sync", options: EnqueueOptions(queue: "limited", limitKey: "big"))
        })
        _ = try await porter.enqueueMany(["a", "b", "c"].map {
            EnqueueRequest(method: "app.sync", options: EnqueueOptions(queue: "limited", limitKey: $0))
        })
        _ = try await porter.enqueueMany((0..<2).map { _ in EnqueueRequest(method: "app.sync", options: EnqueueOptions(queue: "limited")) })
        let first = try await Self.claim(porter, queue: "limited", limit: 10)
        #expect(try await Self.keys(porter, of: first) == ["big", "a", "b", "c", "-", "-"])
        // big is full: a second claim finds nothing, however many of its jobs wait.
        #expect(try await Self.claim(porter, queue: "limited", limit: 10).isEmpty)
        #expect(try await porter.pool.query(
            "SELECT count(*) FROM porter.jobs WHERE status = 'started' AND limit_key = 'big'").single(Int.self) == 1)
    }

    @Test func queueLimitIsNeverExceededAcrossWorkerProcesses() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await Self.createSpans(porter)
        try await porter.setLimit(QueueLimit(queue: "limited", maxRunning: 2))
        _ = try await porter.enqueueMany((0..<30).map { _ in Self.spanJob(key: nil) })
        let workers = try (0..<3).map { _ in try WorkerProcess(database: database, config: Self.config) }
        try await waitUntil(timeout: .seconds(120), "30 spans to finish") {
            try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE status = 'finished'").single(Int.self) == 30
        }
        for worker in workers { worker.kill(SIGTERM) }
        for worker in workers { _ = try await worker.waitForExit() }
        #expect(try await porter.pool.query("SELECT count(DISTINCT worker_id) FROM porter.jobs").single(Int.self) >= 0)
        let overlap = try await Self.maxOverlap(porter, perKey: false)
        // Never more than the limit; and the limit was used: two did run at once.
        #expect(overlap == 2)
    }

    @Test func eachKeyLimitHoldsForEveryKeyAcrossWorkerProcesses() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await Self.createSpans(porter)
        try await porter.setLimit(QueueLimit(queue: "limited", eachKey: true, maxRunning: 1))
        try await porter.setLimit(QueueLimit(queue: "limited", limitKey: "wide", maxRunning: 3))
        let keys = ["franchise:1", "franchise:2", "franchise:3", "wide"]
        _ = try await porter.enqueueMany((0..<8).flatMap { _ in keys.map { Self.spanJob(key: $0) } })
        let workers = try (0..<3).map { _ in try WorkerProcess(database: database, config: Self.config) }
        try await waitUntil(timeout: .seconds(120), "32 spans to finish") {
            try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE status = 'finished'").single(Int.self) == 32
        }
        for worker in workers { worker.kill(SIGTERM) }
        for worker in workers { _ = try await worker.waitForExit() }
        let perKey = try await porter.pool.query("""
            SELECT key, max(running)::int FROM (
                SELECT key, sum(d) OVER (PARTITION BY key ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS running
                FROM (SELECT key, started AS t, 1 AS d FROM app.spans UNION ALL SELECT key, ended, -1 FROM app.spans) AS e
            ) AS s GROUP BY key ORDER BY key
            """).map { try $0.decode((String, Int).self) }
        for (key, running) in perKey {
            #expect(running <= (key == "wide" ? 3 : 1), "key \(key) ran \(running) at once")
        }
        // The keys ran beside each other: the limit is per key, not for the queue.
        #expect(try await Self.maxOverlap(porter, perKey: false) > 1)
    }

    @Test func rateLimitCountsClaimsInASlidingWindowIncludingABurstAtItsEdge() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.setLimit(QueueLimit(queue: "sms", maxStarts: 3, perSeconds: 60))
        _ = try await porter.enqueueMany((0..<10).map { _ in EnqueueRequest(method: "app.send", options: EnqueueOptions(queue: "sms")) })
        // Three claims made 50 s ago, in the window's older part: a fixed one-minute bucket that
        // began since would allow three more now; the sliding window allows none. (10 s from the
        // window's edge, so that a slow machine between this insert and the claim changes
        // nothing.)
        try await porter.pool.query("""
            INSERT INTO porter.limit_starts (queue, limit_key, started_at)
            SELECT 'sms', NULL, clock_timestamp() - interval '50 seconds' FROM generate_series(1, 3)
            """)
        #expect(try await Self.claim(porter, queue: "sms", limit: 10).isEmpty)
        // Once they are out of the window, three and no more.
        try await porter.pool.query("UPDATE porter.limit_starts SET started_at = started_at - interval '11 seconds'")
        #expect(try await Self.claim(porter, queue: "sms", limit: 10).count == 3)
        #expect(try await Self.claim(porter, queue: "sms", limit: 10).isEmpty)
        // A claim in a window counts even after its job ended.
        try await porter.pool.query("UPDATE porter.jobs SET status = 'finished', ended_at = now() WHERE status = 'started'")
        #expect(try await Self.claim(porter, queue: "sms", limit: 10).isEmpty)
        // Per key too, each key apart.
        try await porter.setLimit(QueueLimit(queue: "keyed", eachKey: true, maxStarts: 2, perSeconds: 60))
        _ = try await porter.enqueueMany((0..<3).flatMap { _ in ["a", "b"].map {
            EnqueueRequest(method: "app.send", options: EnqueueOptions(queue: "keyed", limitKey: $0))
        } })
        #expect(try await Self.keys(porter, of: Self.claim(porter, queue: "keyed", limit: 10)) == ["a", "b", "a", "b"])
        #expect(try await Self.claim(porter, queue: "keyed", limit: 10).isEmpty)
    }

    @Test func rateLimitHoldsInEverySlidingWindowWhileWorkersRun() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        try await porter.setLimit(QueueLimit(queue: "limited", maxStarts: 2, perSeconds: 1))
        _ = try await porter.enqueueMany((0..<8).map { _ in EnqueueRequest(method: "sql:app.record", options: EnqueueOptions(queue: "limited")) })
        let workers = try (0..<2).map { _ in try WorkerProcess(database: database, config: Self.config) }
        try await waitUntil(timeout: .seconds(60), "8 jobs to finish") {
            try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE status = 'finished'").single(Int.self) == 8
        }
        for worker in workers { worker.kill(SIGTERM) }
        for worker in workers { _ = try await worker.waitForExit() }
        #expect(try await Self.startsBreakingTwoPerSecond(porter) == 0)
    }

    @Test func fairQueueTakesTurnsAmongKeys() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.setLimit(QueueLimit(queue: "import", fair: true))
        _ = try await porter.enqueueMany((0..<50).map { _ in
            EnqueueRequest(method: "app.import", options: EnqueueOptions(queue: "import", limitKey: "tenant:big"))
        })
        _ = try await porter.enqueueMany((0..<5).map { _ in
            EnqueueRequest(method: "app.import", options: EnqueueOptions(queue: "import", limitKey: "tenant:small"))
        })
        var order: [String] = []
        for _ in 0..<6 {
            order += try await Self.keys(porter, of: Self.claim(porter, queue: "import", limit: 2))
        }
        // Two at a time, one each: the small tenant's five run within the first ten, not after
        // the big tenant's fifty.
        #expect(order.prefix(10).filter { $0 == "tenant:small" }.count == 5)
        #expect(order.count == 12)
        // Without fair, the plain order: the big tenant's first.
        try await porter.setLimit(QueueLimit(queue: "plain", maxRunning: 100))
        _ = try await porter.enqueueMany((0..<5).map { _ in EnqueueRequest(method: "app.import", options: EnqueueOptions(queue: "plain", limitKey: "big")) })
        _ = try await porter.enqueueMany((0..<2).map { _ in EnqueueRequest(method: "app.import", options: EnqueueOptions(queue: "plain", limitKey: "small")) })
        #expect(try await Self.keys(porter, of: Self.claim(porter, queue: "plain", limit: 4)) == ["big", "big", "big", "big"])
    }

    @Test func fairTurnsRespectPriority() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.setLimit(QueueLimit(queue: "import", fair: true))
        _ = try await porter.enqueueMany((0..<3).map { _ in
            EnqueueRequest(method: "app.import", options: EnqueueOptions(queue: "import", priority: 5, limitKey: "low"))
        })
        _ = try await porter.enqueueMany((0..<3).map { _ in
            EnqueueRequest(method: "app.import", options: EnqueueOptions(queue: "import", priority: -1, limitKey: "urgent"))
        })
        #expect(try await Self.keys(porter, of: Self.claim(porter, queue: "import", limit: 4)) == ["low", "urgent", "urgent", "urgent"])
    }

    // MARK: Ends free the place

    /// porter.rate_room_in says when the first full rate window frees a start: each key's
    /// window as porter.claim_limited scopes it (its own row, else the each_key row), and the
    /// queue's own; NULL while no window is full. The worker's claim of a queue with a rate
    /// answers with it, in a row without an id.
    @Test func aClaimOfARatedQueueSaysWhenAFullWindowFreesAStart() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        func roomIn(_ queue: String) async throws -> Double? {
            try await porter.pool.query("SELECT porter.rate_room_in(\(queue))").single(Double?.self)
        }
        try await porter.setLimit(QueueLimit(queue: "keyed", eachKey: true, maxStarts: 1, perSeconds: 30))
        try await porter.setLimit(QueueLimit(queue: "keyed", limitKey: "own", maxStarts: 2, perSeconds: 300))
        _ = try await porter.enqueueMany(["a", "a", "own", "own", "own"].map {
            EnqueueRequest(method: "app.send", options: EnqueueOptions(queue: "keyed", limitKey: $0))
        })
        #expect(try await roomIn("keyed") == nil)
        // Key a's window (each_key's: 1 per 30 s) is full after one claim; key own's (its own
        // row: 2 per 300 s) is not after one.
        try await porter.pool.query("""
            INSERT INTO porter.limit_starts (queue, limit_key, started_at) VALUES
                ('keyed', 'own', clock_timestamp() - interval '10 seconds')
            """)
        #expect(try await roomIn("keyed") == nil)
        let rows = try await porter.pool.query(JobRunQueries.claimAvailable(queue: "keyed", limit: 10, workerID: "w"))
        let answer = try ClaimedJob.answer(rows)
        #expect(try await Self.keys(porter, of: answer.jobs) == ["a", "own"])
        // Now both windows are full: a's frees in 30 s, own's when its claim of 10 s ago ages
        // out, in 290 s.
        let roomA = try #require(answer.rateRoomIn)
        #expect(roomA > 25 && roomA <= 30, "\(roomA)")
        try await porter.pool.query("UPDATE porter.limit_starts SET started_at = started_at - interval '29 seconds' WHERE limit_key = 'a'")
        let soon = try #require(try await roomIn("keyed"))
        #expect(soon > 0 && soon <= 1, "\(soon)")
        try await porter.pool.query("DELETE FROM porter.limit_starts WHERE limit_key = 'a'")
        let later = try #require(try await roomIn("keyed"))
        #expect(later > 280 && later <= 290, "\(later)")
        // The queue's own window counts every claim of the queue.
        try await porter.setLimit(QueueLimit(queue: "keyed", maxStarts: 3, perSeconds: 60))
        try await porter.pool.query("""
            INSERT INTO porter.limit_starts (queue, limit_key, started_at) VALUES ('keyed', NULL, clock_timestamp() - interval '50 seconds')
            """)
        let queueWide = try #require(try await roomIn("keyed"))
        #expect(queueWide > 5 && queueWide <= 10, "\(queueWide)")
        // Claim times written by hand at the ends of time count in their windows but free no
        // start a hint could name, and fail no claim: key a's window says nothing while only
        // they fill it, and the queue's other keys are still claimed.
        try await porter.pool.query("DELETE FROM porter.limit_starts")
        _ = try await porter.clearLimit(queue: "keyed")
        try await porter.pool.query("""
            INSERT INTO porter.limit_starts (queue, limit_key, started_at) VALUES
                ('keyed', 'a', 'infinity'), ('keyed', 'own', '294276-12-31 00:00:00+00'), ('keyed', 'own', 'infinity')
            """)
        #expect(try await roomIn("keyed") == nil)
        _ = try await porter.enqueue(method: "app.send", options: EnqueueOptions(queue: "keyed", limitKey: "b"))
        let afterHandWritten = try ClaimedJob.answer(
            try await porter.pool.query(JobRunQueries.claimAvailable(queue: "keyed", limit: 10, workerID: "w")))
        #expect(try await Self.keys(porter, of: afterHandWritten.jobs) == ["b"])
        let roomB = try #require(afterHandWritten.rateRoomIn)
        #expect(roomB > 25 && roomB <= 30, "\(roomB)")
        // A queue without a rate says nothing, and its claim has no such row.
        _ = try await porter.enqueue(method: "app.send", options: EnqueueOptions(queue: "plain"))
        #expect(try await roomIn("plain") == nil)
        let plain = try await porter.pool.query(JobRunQueries.claimAvailable(queue: "plain", limit: 10, workerID: "w"))
        #expect(plain.count == 1)
    }

    /// A job held back by a rate starts when the window frees a start, not at the worker's next
    /// poll: with polls a minute apart, 2 per second runs 6 jobs in about 2 s, and keeps the rate.
    @Test func jobsHeldByARateStartAsTheWindowFreesNotAtThePoll() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        try await porter.setLimit(QueueLimit(queue: "limited", maxStarts: 2, perSeconds: 1))
        // Waiting before the worker starts: its first claims take the first two, and only the
        // window's wake-ups can start the rest before the poll (the ends' wake-ups come while
        // the window is still full).
        _ = try await porter.enqueueMany((0..<6).map { _ in EnqueueRequest(method: "sql:app.record", options: EnqueueOptions(queue: "limited")) })
        let worker = RunningWorker(porter, fastConfiguration {
            $0.pollInterval = .seconds(60)
            $0.queues["limited"] = QueueConfiguration(backgroundWorkers: 4)
        }, queues: ["limited"])
        try await waitUntil(timeout: .seconds(20), "6 jobs to finish before the poll") {
            try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE status = 'finished'").single(Int.self) == 6
        }
        try await worker.shutdown()
        #expect(try await Self.startsBreakingTwoPerSecond(porter) == 0)
    }

    @Test func everyEndFreesThePlaceAndWakesWorkersAtOnce() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        try await porter.setLimit(QueueLimit(queue: "limited", maxRunning: 1))
        // Polls a minute apart: only the wake that an end sends can start the next job in time.
        let worker = RunningWorker(porter, fastConfiguration {
            $0.pollInterval = .seconds(60)
            $0.queues["limited"] = QueueConfiguration(backgroundWorkers: 4)
        }, queues: ["limited"])
        func enqueue(_ method: String, args: String = "{}", timeout: Int? = nil, maxAttempts: Int? = nil) async throws -> Int64 {
            try #require(try await porter.enqueue(
                method: method, args: PQJSON(text: args),
                options: EnqueueOptions(queue: "limited", timeout: timeout, maxAttempts: maxAttempts)).id)
        }
        let failed = try await enqueue("sql:app.fail", args: #"{"outlet": "A1"}"#)
        let retried = try await enqueue("sql:app.fail", args: #"{"outlet": "B2"}"#, maxAttempts: 2)
        let timedOut = try await enqueue("sql:app.slow", args: #"{"sleep": 30}"#, timeout: 1)
        let finished = try await enqueue("sql:app.record")
        try await waitForJob(porter, failed, .failed)
        try await waitForJob(porter, timedOut, .failed)
        try await waitForJob(porter, finished, .finished)
        // The retried job's first end freed its place at once (the jobs above ran after it);
        // its second attempt becomes due after its backoff, and a due retry is found by a
        // poll, as in any queue, unless another end wakes the worker first. So it gets the
        // poll's minute, and more.
        try await waitForJob(porter, retried, .failed, timeout: .seconds(120))
        // Canceled while it runs.
        let canceled = try await enqueue("sql:app.slow", args: #"{"sleep": 30}"#)
        let next = try await enqueue("sql:app.record")
        try await waitForJob(porter, canceled, .started)
        try await porter.pool.query("UPDATE porter.jobs SET cancel_requested_at = now() WHERE id = \(canceled)")
        try await waitForJob(porter, canceled, .canceled)
        try await waitForJob(porter, next, .finished)
        try await worker.shutdown()
        // One at a time throughout.
        let overlapping = try await porter.pool.query("""
            SELECT format('job %s (%s, %s to %s) and job %s (%s, %s to %s)', a.id, a.status, a.started_at, a.ended_at,
                          b.id, b.status, b.started_at, b.ended_at)
            FROM porter.jobs a JOIN porter.jobs b ON a.id < b.id
            WHERE a.started_at < b.ended_at AND b.started_at < a.ended_at
            """).map { try $0.decode(String.self) }
        #expect(overlapping.isEmpty, "\(overlapping.joined(separator: "; "))")
    }

    @Test func aJobHandedBackAtShutdownFreesItsPlace() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        try await porter.setLimit(QueueLimit(queue: "limited", maxRunning: 1))
        let worker = RunningWorker(porter, fastConfiguration {
            $0.shutdownGrace = .milliseconds(200)
            $0.queues["limited"] = QueueConfiguration(backgroundWorkers: 2)
        }, queues: ["limited"])
        let long = try #require(try await porter.enqueue(
            method: "sql:app.slow", args: PQJSON(text: #"{"sleep": 30}"#), options: EnqueueOptions(queue: "limited")).id)
        try await waitForJob(porter, long, .started)
        // Full: nothing more may start.
        #expect(try await Self.claim(porter, queue: "limited", limit: 5).isEmpty)
        try await worker.shutdown()
        #expect(try await porter.pool.query("SELECT status FROM porter.jobs WHERE id = \(long)").single(String.self) == "queued")
        // Handed back, it no longer counts: the next claim takes it.
        #expect(try await Self.claim(porter, queue: "limited", limit: 5).map(\.id) == [long])
    }

    @Test func statsShowEachLimitWithWhatRunsAndWhatWaitsBecauseOfIt() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.setLimit(QueueLimit(queue: "stock", maxRunning: 3))
        try await porter.setLimit(QueueLimit(queue: "stock", eachKey: true, maxRunning: 1))
        try await porter.setLimit(QueueLimit(queue: "stock", limitKey: "franchise:9", maxRunning: 2))
        _ = try await porter.enqueueMany(["franchise:1", "franchise:1", "franchise:1", "franchise:9", "franchise:9", "franchise:9"].map {
            EnqueueRequest(method: "app.sync", options: EnqueueOptions(queue: "stock", limitKey: $0))
        })
        #expect(try await Self.claim(porter, queue: "stock", limit: 10).count == 3)
        let stats = try await porter.stats()
        let figures = stats.limits.map { ($0.limit.scope, $0.running, $0.waiting) }
        // The queue runs 3 of 3, so the 3 runnable jobs wait for it; franchise:1 runs 1 of 1
        // (2 wait); franchise:9 runs 2 of 2 (1 waits).
        #expect(figures.map(\.0) == ["queue", "each key", "key"])
        #expect(figures.map(\.1) == [3, 1, 2])
        #expect(figures.map(\.2) == [3, 2, 1])
        let url = ["--database-url", database.connectionString]
        let table = try await runPorter(["stats"] + url)
        #expect(table.status == 0 && table.output.contains("LIMIT QUEUE") && table.output.contains("key franchise:9"), "\(table.output)")
        let json = try await runPorter(["stats", "--json"] + url)
        #expect(json.output.contains("\"limits\""), "\(json.output)")
        // The dashboard's queue page reads /api/stats, which is porter.stats() as it is.
        #expect(try await porter.statsJSON().text.contains("\"waiting\""))
    }

    @Test func aRescuedJobFreesItsPlaceAndCountsAgainWhenItRunsAgain() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await Self.createSpans(porter)
        try await porter.setLimit(QueueLimit(queue: "limited", maxRunning: 1))
        let long = try #require(try await porter.enqueue(Self.spanJob(key: nil, sleep: 0.05, firstSleep: 60)).id)
        let first = try WorkerProcess(database: database, config: Self.config)
        try await waitForJob(porter, long, .started)
        _ = try await porter.enqueueMany((0..<3).map { _ in Self.spanJob(key: nil, sleep: 0.05) })
        first.kill(SIGKILL)
        _ = try await first.waitForExit()
        // The killed worker's job counts until the rescue gives it back; then the others run,
        // and it runs again, one at a time.
        let second = try WorkerProcess(database: database, config: Self.config)
        try await waitUntil(timeout: .seconds(90), "every job to finish") {
            try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE status = 'finished'").single(Int.self) == 4
        }
        second.kill(SIGTERM)
        _ = try await second.waitForExit()
        #expect(try await porter.pool.query("SELECT orphaned FROM porter.jobs WHERE id = \(long)").single(Int.self) == 1)
        // Nothing started while the dead worker's job still counted as running.
        let startedBeforeRescue = try await porter.pool.query("""
            SELECT count(*) FROM app.spans s, porter.jobs j
            WHERE j.id = \(long) AND s.started < (SELECT min((e->>'at')::timestamptz) FROM jsonb_array_elements(j.errors) AS e)
            """).single(Int.self)
        #expect(startedBeforeRescue == 0)
        #expect(try await Self.maxOverlap(porter, perKey: false) == 1)
    }
}

/// Debounce (issue 20): enqueues of a waiting job merge into it.
@Suite struct DebounceTests {
    @Test func enqueueWhileWaitingReplacesArgumentsAndDelaysUpToTheCap() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let options = EnqueueOptions(queue: "search", jobID: "reindex:42", debounce: .seconds(5), debounceMax: .seconds(60))
        let first = try #require(try await porter.enqueue(method: "app.reindex", args: PQJSON(text: #"{"edit": 1}"#), options: options).id)
        let firstRunAt = try await porter.pool.query(
            "SELECT extract(epoch FROM run_at - enqueued_at)::float8 FROM porter.jobs WHERE id = \(first)").single(Double.self)
        #expect(firstRunAt >= 5)
        let firstRun = try await porter.pool.query("SELECT run_at::text FROM porter.jobs WHERE id = \(first)").single(String.self)
        let second = try #require(try await porter.enqueue(method: "app.reindex", args: PQJSON(text: #"{"edit": 2}"#), options: options).id)
        #expect(second == first)
        let row = try #require(try await porter.pool.query(
            "SELECT args->>'edit', status, run_at > \(firstRun)::timestamptz FROM porter.jobs WHERE id = \(first)").first)
        let (edit, status, delayed) = try row.decode((String, String, Bool).self)
        #expect(edit == "2" && status == "scheduled" && delayed)
        // The cap: as if the first enqueue were 58 s ago, the job moves to its first enqueue + 60 s.
        try await porter.pool.query("UPDATE porter.jobs SET enqueued_at = now() - interval '58 seconds' WHERE id = \(first)")
        let third = try await porter.enqueue(method: "app.reindex", args: PQJSON(text: #"{"edit": 3}"#), options: options).id
        #expect(third == first)
        let cappedIn = try await porter.pool.query(
            "SELECT extract(epoch FROM run_at - enqueued_at)::float8 FROM porter.jobs WHERE id = \(first)").single(Double.self)
        #expect(abs(cappedIn - 60) < 0.001)
        // SQL and enqueue_many merge the same way.
        let fromSQL = try await porter.pool.query("""
            SELECT porter.enqueue('app.reindex', '{"edit": 4}', queue => 'search', job_id => 'reindex:42',
                                  debounce => interval '5 seconds', debounce_max => interval '1 minute')
            """).single(Int64.self)
        let fromMany = try await porter.enqueueMany([
            EnqueueRequest(method: "app.reindex", args: PQJSON(text: #"{"edit": 5}"#), options: options)])
        #expect(fromSQL == first && fromMany.first?.id == first)
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs").single(Int.self) == 1)
        #expect(try await porter.pool.query("SELECT args->>'edit' FROM porter.jobs").single(String.self) == "5")
    }

    @Test func enqueueAfterTheJobStartedMakesANewJob() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let options = EnqueueOptions(jobID: "reindex:7", debounce: .milliseconds(1))
        let first = try #require(try await porter.enqueue(method: "app.reindex", options: options).id)
        try await waitUntil(timeout: .seconds(10), "the job to be due") {
            try await porter.pool.query("SELECT run_at <= now() FROM porter.jobs WHERE id = \(first)").single(Bool.self)
        }
        let claimed = try await porter.pool.query(JobRunQueries.claimAvailable(queue: "default", limit: 1, workerID: "w")).count
        #expect(claimed == 1)
        let second = try #require(try await porter.enqueue(method: "app.reindex", options: options).id)
        #expect(second != first)
        let third = try await porter.enqueue(method: "app.reindex", options: options).id
        #expect(third == second)
        // A job enqueued without debounce keeps its job_id while it runs, as before.
        let plain = try #require(try await porter.enqueue(method: "app.reindex", options: EnqueueOptions(jobID: "plain")).id)
        _ = try await porter.pool.query(JobRunQueries.claimAvailable(queue: "default", limit: 5, workerID: "w"))
        #expect(try await porter.pool.query("SELECT status FROM porter.jobs WHERE id = \(plain)").single(String.self) == "started")
        await #expect {
            try await porter.enqueue(method: "app.reindex", options: EnqueueOptions(jobID: "plain", debounce: .seconds(1)))
        } throws: { error in
            guard case .duplicateJob = (error as? PorterError)?.code else { return false }
            return true
        }
    }

    @Test func concurrentDebouncedEnqueuesMergeIntoOneJob() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient(maximumConnections: 8)
        let options = EnqueueOptions(jobID: "reindex:busy", debounce: .seconds(30))
        let ids = try await withThrowingTaskGroup(of: Int64?.self) { group in
            for n in 0..<40 {
                group.addTask {
                    try await porter.enqueue(method: "app.reindex", args: PQJSON(text: "{\"edit\": \(n)}"), options: options).id
                }
            }
            return try await group.reduce(into: Set<Int64?>()) { $0.insert($1) }
        }
        #expect(ids.count == 1 && ids.first! != nil)
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs").single(Int.self) == 1)
    }

    @Test func aDocumentMethodTakesALimitKeyAndIsDebounced() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let options = EnqueueOptions(queue: "stock", jobID: "outlet:OUT-1", limitKey: "franchise:1", debounce: .seconds(5))
        let first = try await porter.enqueueDoc(doctype: "Outlet", name: "OUT-1", method: "sync_stock", options: options).id
        let second = try await porter.enqueueDoc(doctype: "Outlet", name: "OUT-1", method: "sync_stock", options: options).id
        #expect(first != nil && first == second)
        let row = try #require(try await porter.pool.query(
            "SELECT limit_key, status, run_at >= enqueued_at + interval '5 seconds' FROM porter.jobs").first)
        let (key, status, delayed) = try row.decode((String, String, Bool).self)
        #expect(key == "franchise:1" && status == "scheduled" && delayed)
    }

    /// A limit row written by hand cannot hold a window that would make every claim of its
    /// queue fail ("timestamp out of range" when the claim subtracts it from its clock).
    @Test func aLimitRowWrittenByHandWithAWindowNoClaimCanSubtractIsRefused() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let error = try await #require(throws: PQError.self) {
            try await porter.pool.query(
                "INSERT INTO porter.queue_limits (queue, max_starts, per) VALUES ('sms', 1, interval '1000000 years')")
        }
        #expect(error.constraint == "queue_limits_per_within_range")
        // At the bound, claims work.
        try await porter.setLimit(QueueLimit(queue: "sms", maxStarts: 1, perSeconds: 36_525 * 86_400))
        _ = try await porter.enqueue(method: "app.send", options: EnqueueOptions(queue: "sms"))
        #expect(try await FlowControlTests.claim(porter, queue: "sms", limit: 10).count == 1)
        await porter.close()
    }

    @Test func debounceRefusesBadInputAndStoresNothing() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let bad: [(EnqueueOptions, String)] = [
            (EnqueueOptions(debounce: .seconds(5)), "job_id"),
            (EnqueueOptions(jobID: "r", debounce: .seconds(5), debounceMax: .seconds(1)), "debounce_max"),
            (EnqueueOptions(jobID: "r", debounceMax: .seconds(5)), "debounce"),
            (EnqueueOptions(jobID: "r", debounce: .zero), "debounce"),
            (EnqueueOptions(jobID: "r", debounce: .seconds(-1)), "debounce"),
            // Past 100 years, run_at's own bound: refused, not "timestamp out of range".
            (EnqueueOptions(jobID: "r", debounce: .seconds(200 * 365 * 86_400)), "debounce"),
            (EnqueueOptions(jobID: "r", debounce: .seconds(5), debounceMax: .seconds(200 * 365 * 86_400)), "debounce_max"),
        ]
        for (options, parameter) in bad {
            await #expect {
                try await porter.enqueue(method: "app.reindex", options: options)
            } throws: { error in
                (error as? PorterError)?.code == .invalidArgument(parameter: parameter)
            }
        }
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs").single(Int.self) == 0)
    }
}

/// `porter limit set|clear|list` and `porter enqueue --limit-key/--debounce`.
@Suite struct LimitCommandTests {
    @Test func limitSetClearAndListRoundTripThroughTheDatabase() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let url = ["--database-url", database.connectionString]
        let set = try await runPorter(["limit", "set", "stock", "--each-key", "--max-running", "1"] + url)
        #expect(set.status == 0, "\(set.output)")
        let rate = try await runPorter(["limit", "set", "sms", "--max-starts", "100", "--per", "1m"] + url)
        #expect(rate.status == 0, "\(rate.output)")
        #expect(try await porter.limits() == [
            QueueLimit(queue: "sms", maxStarts: 100, perSeconds: 60),
            QueueLimit(queue: "stock", eachKey: true, maxRunning: 1),
        ])
        let list = try await runPorter(["limit", "list"] + url)
        #expect(list.status == 0 && list.output.contains("queue stock  each key  max_running=1"), "\(list.output)")
        #expect(list.output.contains("queue sms  max_starts=100 per 60s"), "\(list.output)")
        let json = try await runPorter(["limit", "list", "--json"] + url)
        let decoded = try JSONDecoder().decode([QueueLimit].self, from: Data(json.output.utf8))
        #expect(decoded.count == 2)
        // Refused before or by the database, with the fix in the message; nothing stored.
        for arguments in [
            ["limit", "set", "q", "--max-running", "0"],
            ["limit", "set", "q", "--max-starts", "5"],
            ["limit", "set", "q", "--max-starts", "5", "--per", "0s"],
            ["limit", "set", "q", "--key", "k", "--each-key", "--max-running", "1"],
            ["limit", "set", "q", "--key", String(repeating: "k", count: 300), "--max-running", "1"],
            ["limit", "set", "q"],
        ] {
            let refused = try await runPorter(arguments + url)
            #expect(refused.status != 0 && !refused.crashed, "\(arguments): \(refused.output)")
        }
        #expect(try await porter.limits().count == 2)
        let clear = try await runPorter(["limit", "clear", "stock", "--each-key"] + url)
        #expect(clear.status == 0 && clear.output.contains("limit cleared"), "\(clear.output)")
        #expect(try await porter.limits() == [QueueLimit(queue: "sms", maxStarts: 100, perSeconds: 60)])
    }

    @Test func enqueueTakesLimitKeyAndDebounce() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let url = ["--database-url", database.connectionString]
        let first = try await runPorter(
            ["enqueue", "app.reindex", "--job-id", "reindex:42", "--limit-key", "tenant:1", "--debounce", "5s", "--debounce-max", "1m"] + url)
        let second = try await runPorter(
            ["enqueue", "app.reindex", "--job-id", "reindex:42", "--limit-key", "tenant:1", "--debounce", "5s", "--debounce-max", "1m"] + url)
        #expect(first.status == 0 && second.status == 0, "\(first.output) \(second.output)")
        #expect(first.output == second.output)
        #expect(try await porter.pool.query("SELECT limit_key FROM porter.jobs").single(String.self) == "tenant:1")
        let refused = try await runPorter(["enqueue", "app.reindex", "--debounce", "5s"] + url)
        #expect(refused.status != 0 && refused.output.contains("--job-id"), "\(refused.output)")
    }
}
