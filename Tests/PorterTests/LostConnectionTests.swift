import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// A lost connection rolls the attempt's work back; it is not the job's own failure, so the
/// job goes back in the queue without using an attempt, and only `max_orphaned` such losses
/// stop it.
@Suite struct LostConnectionTests {
    /// `app.dies_once`: writes an effect, then sleeps on its first run only (a sequence counts
    /// runs, since it is not rolled back), so a test can cut the first run's connection.
    func createDiesOnce(_ porter: PorterClient) async throws {
        try await createSQLJobs(porter)
        try await porter.pool.query("CREATE SEQUENCE app.runs")
        try await porter.pool.query("""
            CREATE FUNCTION app.dies_once(args jsonb) RETURNS int LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO app.effects (job, note) VALUES (porter.current_job_id(), 'run');
                IF nextval('app.runs') = 1 OR (args->>'always')::boolean THEN
                    PERFORM pg_sleep(60);
                END IF;
                RETURN 1;
            END $$
            """)
    }

    /// Ends the session running job `id`'s sql: function, as a failover or a server restart
    /// would; returns once it is gone.
    func cutConnection(of id: Int64, _ porter: PorterClient) async throws {
        try await waitUntil(timeout: .seconds(20), "job \(id)'s function to be running") {
            try await porter.pool.query(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%\"app\".\"dies_once\"%' AND state = 'active' AND pid <> pg_backend_pid() AND datname = current_database()"
            ).single(Int.self) == 1
        }
        try await porter.pool.query(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE query LIKE '%\"app\".\"dies_once\"%' AND state = 'active' AND pid <> pg_backend_pid() AND datname = current_database()")
    }

    @Test func anSQLJobWhoseConnectionIsCutGoesBackToTheQueueWithoutUsingAnAttempt() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createDiesOnce(porter)
        let worker = RunningWorker(database.makeClient(), fastConfiguration())
        let id = try #require(try await porter.enqueue(method: "sql:app.dies_once").id)
        try await cutConnection(of: id, porter)
        let job = try await waitForJob(porter, id, .finished)
        // The cut attempt was not counted (max_attempts is 1), but it is on record.
        #expect(job.attempts == 1)
        #expect(try await porter.pool.query("SELECT orphaned FROM porter.jobs WHERE id = \(id)").single(Int.self) == 1)
        let errors = try #require(try await porter.pool.query("SELECT jsonb_array_length(errors), errors->0->>'error' FROM porter.jobs WHERE id = \(id)").first)
        let (count, first) = try errors.decode((Int, String?).self)
        #expect(count == 1)
        #expect(first?.contains("connection") == true, "\(first ?? "none")")
        // The cut run's effect rolled back; the second run's committed.
        #expect(try await effects(porter, job: id) == 1)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func aJobWhoseConnectionKeepsBeingCutFailsAsPoisonAtMaxOrphaned() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createDiesOnce(porter)
        let worker = RunningWorker(database.makeClient(), fastConfiguration { $0.maxOrphaned = 2 })
        let id = try #require(try await porter.enqueue(method: "sql:app.dies_once", args: PQJSON(text: #"{"always": true}"#)).id)
        try await cutConnection(of: id, porter)
        try await waitUntil(timeout: .seconds(20), "the job to be claimed again") {
            try await porter.pool.query("SELECT orphaned = 1 AND status = 'started' FROM porter.jobs WHERE id = \(id)").single(Bool.self)
        }
        try await cutConnection(of: id, porter)
        let job = try await waitForJob(porter, id, .failed)
        #expect(job.error?.contains("poison") == true, "\(job.error ?? "")")
        #expect(try await porter.pool.query("SELECT orphaned FROM porter.jobs WHERE id = \(id)").single(Int.self) == 2)
        #expect(try await effects(porter, job: id) == 0)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func aSwiftJobWhoseFinishingTransactionIsCutGoesBackToTheQueueWithoutUsingAnAttempt() async throws {
        struct Finishes: Job {
            static let method = "test.finishes"
        }
        actor Count {
            var value = 0
            func next() -> Int {
                value += 1
                return value
            }
        }
        let runs = Count()
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        var registry = JobRegistry()
        registry.register(Finishes.self) { _, context in
            let run = await runs.next()
            try await context.finish { transaction in
                try transaction.query("INSERT INTO app.effects (job, note) VALUES (\(context.id), 'finish')")
                // The first run's connection dies in the middle of its finishing transaction.
                if run == 1 { try transaction.query("SELECT pg_terminate_backend(pg_backend_pid())") }
            }
        }
        let worker = RunningWorker(database.makeClient(registry: registry), fastConfiguration())
        let id = try #require(try await porter.enqueue(Finishes()).id)
        let job = try await waitForJob(porter, id, .finished)
        #expect(job.attempts == 1)
        #expect(await runs.value == 2)
        #expect(try await porter.pool.query("SELECT orphaned FROM porter.jobs WHERE id = \(id)").single(Int.self) == 1)
        #expect(try await effects(porter, job: id) == 1)
        try await worker.shutdown()
        await porter.close()
    }
}
