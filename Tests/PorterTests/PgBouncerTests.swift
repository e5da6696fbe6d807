import Foundation
import Synchronization
import Logging
import Porter
import PorterPostgres
import PorterTesting
import ServiceLifecycle
import Testing

/// How many times each job's handler ran to its end, across every worker of a test.
actor CompletedRuns {
    private(set) var counts: [Int64: Int] = [:]
    func record(_ id: Int64?) {
        guard let id else { return }
        counts[id, default: 0] += 1
    }
}

/// A value shared between a test and the tasks it starts.
final class Shared<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// Porter behind a real PgBouncer in transaction pooling mode: each transaction may run on a
/// server session another client used a moment before.
@Suite struct PgBouncerTests {
    /// A client whose every connection goes through PgBouncer.
    static func bouncedClient(
        _ database: TestDatabase, registry: JobRegistry = JobRegistry(), maximumConnections: Int = 20
    ) async throws -> PorterClient {
        let configuration = try await PgBouncer.shared.configuration(for: database)
        var logger = Logger(label: "porter.test.pgbouncer")
        logger.logLevel = .warning
        return PorterClient(pool: PQPool(configuration, maximumConnections: maximumConnections, logger: logger), registry: registry, logger: logger)
    }

    static func worker(_ porter: PorterClient, _ configuration: WorkerConfiguration) -> Worker {
        var logger = Logger(label: "porter.test.worker")
        logger.logLevel = .critical
        return Worker(client: porter, configuration: configuration, logger: logger)
    }

    /// Finding 5: statement names were numbered per connection, so a second client on the
    /// same server session met `porter_1` already prepared by the first (42P05), or ran the
    /// first client's statement if the parameter counts matched. Named by their text, two
    /// clients' statements never share a name.
    @Test func preparedStatementsOfTwoClientsSharingAServerSessionNeverCollide() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let configuration = try await PgBouncer.shared.configuration(for: database)
        let first = try await PQConnection.connect(configuration)
        let second = try await PQConnection.connect(configuration)
        // One after the other, so PgBouncer hands both the same idle server session.
        for value in 1...3 {
            let added: PQQuery = "SELECT \(value)::int + 1"
            let multiplied: PQQuery = "SELECT \(value)::int * 10"
            #expect(try await first.query(added.prepared()).single(Int.self) == value + 1)
            #expect(try await second.query(multiplied.prepared()).single(Int.self) == value * 10)
        }
        await first.close()
        await second.close()
        try await database.drop()
    }

    /// Finding 5: a worker with prepared statements behind transaction pooling claimed 33 of
    /// 1,000 jobs a minute and said so only at info level. It stops now, at once, with an error
    /// that says what to do, and leaves no job started or failed.
    @Test func workerWithPreparedStatementsBehindPgBouncerStopsWithAnErrorNamingPollOnly() async throws {
        let database = try await TestDatabase.create()
        let direct = database.makeClient()
        var registry = JobRegistry()
        registry.register(method: "test.noop") { _, _ in nil }
        let porter = try await Self.bouncedClient(database, registry: registry, maximumConnections: 40)
        _ = try await direct.enqueueMany((0..<1000).map { _ in EnqueueRequest(method: "test.noop") })
        let configuration = fastConfiguration {
            $0.queues["default"] = QueueConfiguration(backgroundWorkers: 20)
        }
        let worker = Self.worker(porter, configuration)
        let stopped = Shared<(any Error)?>(nil)
        let ended = Shared(false)
        let run = Task {
            do { try await worker.run() } catch { stopped.value = error }
            ended.value = true
        }
        defer { run.cancel() }
        try await waitUntil(timeout: .seconds(30), "the worker to stop by itself") { ended.value }
        let error = try #require(stopped.value as? PorterError, "the worker ended without an error")
        #expect(error.code == .sharedServerSession)
        #expect(error.description.contains("--poll-only"))
        #expect(error.description.contains("max_prepared_statements"))
        #expect(error.sqlState == .duplicatePreparedStatement || error.sqlState == .invalidSQLStatementName)
        // What it claimed went back or was finished; nothing was failed for the pooler's sake.
        let row = try #require(try await direct.pool.query("""
            SELECT count(*) FILTER (WHERE status = 'started'), count(*) FILTER (WHERE status = 'failed'),
                   count(*) FILTER (WHERE status IN ('queued', 'finished'))
            FROM porter.jobs
            """).first)
        let (started, failed, settled) = try row.decode((Int, Int, Int).self)
        #expect(started == 0 && failed == 0 && settled == 1000)
        await porter.close()
        await direct.close()
    }

    /// `--poll-only` behind PgBouncer: enqueues, Swift jobs, retries and `sql:` jobs all go
    /// through the pooler and come out right.
    @Test func pollOnlyWorkerBehindPgBouncerRunsJobsRetriesAndSQLJobs() async throws {
        let database = try await TestDatabase.create()
        let direct = database.makeClient()
        try await createSQLJobs(direct)
        let runs = CompletedRuns()
        var registry = JobRegistry()
        registry.register(method: "test.flaky") { _, context in
            struct FirstAttemptFails: Error {}
            if context.attempt == 1 { throw FirstAttemptFails() }
            await runs.record(context.id)
            return nil
        }
        registry.register(method: "test.count") { _, context in
            await runs.record(context.id)
            return nil
        }
        let porter = try await Self.bouncedClient(database, registry: registry)
        var swift: [Int64] = []
        var flaky: [Int64] = []
        var sql: [Int64] = []
        for index in 0..<60 {
            swift.append(try await porter.enqueue(method: "test.count").id!)
            if index % 3 == 0 { flaky.append(try await porter.enqueue(method: "test.flaky", options: EnqueueOptions(maxAttempts: 2)).id!) }
            if index % 2 == 0 { sql.append(try await porter.enqueue(method: "sql:app.record", args: PQJSON(text: #"{"note": "x"}"#)).id!) }
        }
        // A typed batch (porter.enqueue_batch) through the pooler too.
        struct Count: Job { static let method = "test.count"; var n: Int }
        swift += try await porter.enqueueMany((0..<30).map { Count(n: $0) }).compactMap(\.id)
        #expect(swift.count == 90)
        let worker = RunningWorker(porter, fastConfiguration {
            $0.pollOnly = true
            $0.queues["default"] = QueueConfiguration(backgroundWorkers: 8)
        })
        let all = swift + flaky + sql
        try await waitUntil(timeout: .seconds(60), "every job to finish") {
            try await direct.pool.query("SELECT count(*) FROM porter.jobs WHERE status = 'finished' AND id = ANY(\(all))").single(Int.self) == all.count
        }
        let counts = await runs.counts
        for id in swift + flaky { #expect(counts[id] == 1, "job \(id) ran to its end \(counts[id] ?? 0) times") }
        for id in flaky { #expect(try await porter.job(id: id)?.attempts == 2) }
        for id in sql { #expect(try await effects(direct, job: id) == 1) }
        try await worker.shutdown()
        await porter.close()
        await direct.close()
    }

    /// A `porter worker --poll-only` killed behind PgBouncer mid-job: another one, also behind
    /// PgBouncer, rescues the job after `rescue_after` and runs it to its end, once.
    @Test func pollOnlyWorkerBehindPgBouncerRescuesAKilledWorkersJob() async throws {
        let database = try await TestDatabase.create()
        let direct = database.makeClient()
        try await createSQLJobs(direct)
        // Sleeps on its first run only, so the rescued run ends at once.
        try await direct.pool.query("""
            CREATE FUNCTION app.slow_first(args jsonb) RETURNS void LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO app.effects (job, note) VALUES (porter.current_job_id(), 'run');
                IF (SELECT orphaned FROM porter.jobs WHERE id = porter.current_job_id()) = 0 THEN
                    PERFORM pg_sleep(60);
                END IF;
            END $$
            """)
        let through = try await PgBouncer.shared.configuration(for: database).connectionString
        let first = try WorkerProcess(databaseURL: through, config: WorkerProcessTests.config, arguments: ["--poll-only"])
        let id = try await direct.enqueue(method: "sql:app.slow_first").id!
        _ = try await waitForJob(direct, id, .started)
        first.kill(SIGKILL)
        _ = try await first.waitForExit()
        let second = try WorkerProcess(databaseURL: through, config: WorkerProcessTests.config, arguments: ["--poll-only"])
        let job = try await waitForJob(direct, id, .finished, timeout: .seconds(30))
        #expect(job.orphaned == 1)
        // The killed run's insert never committed.
        #expect(try await effects(direct, job: id) == 1)
        second.kill(SIGTERM)
        #expect(try await second.waitForExit() == 0, "\(second.output)")
        await direct.close()
    }

    /// Two schedulers behind PgBouncer fire each tick of an `all` event once, and a poll-only
    /// worker runs what they enqueue.
    @Test func schedulersBehindPgBouncerFireEachSlotOnce() async throws {
        let database = try await TestDatabase.create()
        let direct = database.makeClient()
        var registry = JobRegistry()
        registry.register(method: "test.tick") { _, _ in nil }
        let porter = try await Self.bouncedClient(database, registry: registry)
        var schedule = ScheduleConfiguration(tickInterval: .milliseconds(300))
        try schedule.add("all", method: "test.tick")
        var logger = Logger(label: "porter.test.scheduler")
        logger.logLevel = .warning
        let schedulers = (0..<2).map { _ in Scheduler(client: porter, configuration: schedule, logger: logger) }
        let worker = Self.worker(porter, fastConfiguration { $0.pollOnly = true })
        let group = ServiceGroup(configuration: .init(services: [.init(service: worker)] + schedulers.map { .init(service: $0) }, logger: logger))
        let run = Task { try await group.run() }
        try await waitUntil(timeout: .seconds(90), "ten scheduled runs to finish") {
            try await direct.pool.query("SELECT count(*) FROM porter.jobs WHERE method = 'test.tick' AND status = 'finished'").single(Int.self) >= 10
        }
        await group.triggerGracefulShutdown()
        try await run.value
        let row = try #require(try await direct.pool.query("""
            SELECT (SELECT count(*) FROM porter.jobs WHERE method = 'test.tick'),
                   (SELECT count(*) FROM porter.schedule_fires WHERE method = 'test.tick' AND job IS NOT NULL),
                   (SELECT count(DISTINCT job) FROM porter.schedule_fires WHERE method = 'test.tick' AND job IS NOT NULL)
            """).first)
        let (jobs, fires, distinctJobs) = try row.decode((Int, Int, Int).self)
        #expect(jobs == fires && fires == distinctJobs)
        await porter.close()
        await direct.close()
    }

    /// What realtime can do behind PgBouncer: NOTIFY sent through it (publish_realtime, a job's
    /// events and progress) reaches a listener connected to PostgreSQL itself. What it cannot:
    /// a LISTEN through transaction pooling is registered on a server session that goes back
    /// to the pool, so that listener hears nothing.
    @Test func notifySentThroughPgBouncerReachesADirectListenerButListenThroughItHearsNothing() async throws {
        let database = try await TestDatabase.create()
        let direct = database.makeClient()
        let porter = try await Self.bouncedClient(database)
        let realtime = RealtimeListener(client: direct)
        try await realtime.start()
        let bouncedListener = PQListener(try await PgBouncer.shared.configuration(for: database))
        try await bouncedListener.listen(RealtimeListener.channel)
        let heardThroughPgBouncer = Shared(0)
        let counting = Task {
            for await _ in bouncedListener.notifications() { heardThroughPgBouncer.value += 1 }
        }
        let heardDirectly = Shared<[String]>([])
        let collecting = Task {
            for await event in realtime.events(named: "stock_synced") { heardDirectly.value.append(event.message.text) }
        }
        for outlet in ["A1", "B2", "C3"] {
            try await porter.publishRealtime(event: "stock_synced", message: PQJSON(text: #"{"outlet": "\#(outlet)"}"#))
        }
        try await waitUntil(timeout: .seconds(10), "the direct listener to hear all three") { heardDirectly.value.count == 3 }
        #expect(heardThroughPgBouncer.value == 0)
        realtime.stop()
        bouncedListener.stop()
        counting.cancel()
        collecting.cancel()
        await porter.close()
        await direct.close()
    }

    /// After an outage longer than `rescue_after` (a failover behind PgBouncer takes about
    /// 20 s), poll-only workers carry on: nothing is lost and no job runs to its end twice.
    /// Every worker's heartbeat is as old as the outage, but no worker rescues another's jobs
    /// until it has itself been back in contact for `rescue_after`; by then the live ones have
    /// heartbeat and written the outcomes they kept.
    @Test func outageLongerThanRescueAfterBehindPgBouncerLosesNothingAndRunsNothingTwice() async throws {
        let database = try await TestDatabase.create()
        let direct = database.makeClient()
        try await createSQLJobs(direct)
        let runs = CompletedRuns()
        var registry = JobRegistry()
        registry.register(method: "test.slow") { _, context in
            try await Task.sleep(for: .milliseconds(300))
            await runs.record(context.id)
            return nil
        }
        let configuration = fastConfiguration {
            $0.pollOnly = true
            // fastConfiguration's 3 s: shorter, a loaded machine delays live workers'
            // heartbeats past it even without an outage.
            $0.rescueAfter = .seconds(3)
            // Maintenance passes far more often than heartbeats: once the outage ends, a
            // worker that rescued at once would find the other's heartbeat stale every time.
            $0.heartbeatInterval = .seconds(1)
            $0.maintenanceInterval = .milliseconds(50)
            $0.queues["default"] = QueueConfiguration(backgroundWorkers: 5)
        }
        let clients = try await [Self.bouncedClient(database, registry: registry), Self.bouncedClient(database, registry: registry)]
        let swift = try await direct.enqueueMany((0..<150).map { _ in EnqueueRequest(method: "test.slow") }).compactMap(\.id)
        let sql = try await direct.enqueueMany((0..<100).map { _ in EnqueueRequest(method: "sql:app.slow", args: PQJSON(text: #"{"sleep": 0.2}"#)) }).compactMap(\.id)
        let workers = clients.map { RunningWorker($0, configuration) }
        try await waitUntil(timeout: .seconds(30), "some jobs to finish") {
            try await direct.pool.query("SELECT count(*) FROM porter.jobs WHERE status = 'finished'").single(Int.self) >= 20
        }
        try await PgBouncer.shared.outage(of: database)
        // The outage itself: three times rescue_after, as a slow failover would be.
        try await Task.sleep(for: configuration.rescueAfter * 3)
        try await PgBouncer.shared.restore(database)
        let all = swift + sql
        // What the jobs were doing at the last look, for the message should they never all
        // finish: a job failed (poisoned by rescues) waits for ever, a slow one does not.
        let seen = Mutex("nothing yet")
        // A claim that committed while PgBouncer's KILL cut off its answer leaves its jobs
        // held by a live worker that never received them; its held-jobs check hands them
        // back (LostClaimAnswerTests), so they finish too.
        try await waitUntil(timeout: .seconds(90), "every job to finish; last seen: \(seen.withLock { $0 })") {
            let rows = try await direct.pool.query("""
                SELECT status || ' ' || count(*) || ' (attempts up to ' || max(attempts) || ', orphaned up to ' || max(orphaned) || ')'
                FROM porter.jobs WHERE id = ANY(\(all)) GROUP BY status ORDER BY status
                """).map { try $0.decode(String.self) }
            seen.withLock { $0 = rows.joined(separator: ", ") }
            return rows.count == 1 && rows[0].hasPrefix("finished \(all.count) ")
        }
        let counts = await runs.counts
        for id in swift { #expect(counts[id] == 1, "job \(id) ran to its end \(counts[id] ?? 0) times") }
        for id in sql { #expect(try await effects(direct, job: id) == 1) }
        for worker in workers { try await worker.shutdown() }
        for client in clients { await client.close() }
        await direct.close()
    }
}
