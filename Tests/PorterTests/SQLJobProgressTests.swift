import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// An sql: job's progress arrives while it runs, its end time is when it ended, and
/// `porter cancel` of it never waits for it to end.
@Suite struct SQLJobProgressTests {
    /// `app.step(args)`: publishes 10 %, sleeps `sleep` seconds, publishes 100 %.
    func createStepFunction(_ porter: PorterClient) async throws {
        try await createSQLJobs(porter)
        try await porter.pool.query("""
            CREATE FUNCTION app.step(args jsonb) RETURNS void LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM porter.publish_progress(10, 'Stepping', 'first');
                PERFORM pg_sleep((args->>'sleep')::float8);
                PERFORM porter.publish_progress(100, 'Stepping', 'last');
            END $$
            """)
    }

    @Test func anSQLJobsProgressIsStoredAndPublishedWhileItRunsAndItsEndTimeIsReal() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createStepFunction(porter)
        let realtime = RealtimeListener(client: porter)
        defer { realtime.stop() }
        try await realtime.start()
        let id = try #require(try await porter.enqueue(method: "sql:app.step", args: PQJSON(text: #"{"sleep": 2}"#)).id)
        var events = realtime.events(job: id).makeAsyncIterator()
        let worker = RunningWorker(porter, fastConfiguration())
        #expect(try #require(await events.next()).event == "started")
        let first = try #require(await events.next())
        #expect(first.event == "progress")
        #expect(first.progress?.percent == 10)
        // The job is still running, and its row already shows the progress.
        let running = try #require(try await porter.job(id: id))
        #expect(running.status == .started)
        #expect(running.progress?.text.contains(#""percent": 10"#) == true)
        let last = try #require(await events.next())
        #expect(last.progress?.percent == 100)
        #expect(try #require(await events.next()).event == "finished")
        let finished = try await waitForJob(porter, id, .finished)
        let ran = try #require(finished.endedAt).timeIntervalSince(try #require(finished.startedAt))
        #expect(ran >= 1.9, "ended_at is \(ran) s after started_at for a job that slept 2 s")
        try await worker.shutdown()
        await porter.close()
    }

    @Test func cancelingAnSQLJobThatPublishedProgressStopsItWithoutWaitingForIt() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createStepFunction(porter)
        let id = try #require(try await porter.enqueue(method: "sql:app.step", args: PQJSON(text: #"{"sleep": 60}"#)).id)
        let worker = RunningWorker(porter, fastConfiguration())
        try await waitUntil(timeout: .seconds(15), "the job's first progress") {
            try await porter.job(id: id)?.progress != nil
        }
        #expect(try await porter.cancel(id: id) == .requested)
        let canceled = try await waitForJob(porter, id, .canceled, timeout: .seconds(10))
        #expect(canceled.error == "canceled while running (porter cancel)")
        try await worker.shutdown()
        await porter.close()
    }

    @Test func cancelingAJobWhoseOwnTransactionLocksItsRowAsksItsWorkerAtOnce() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        // Locks its own row, as a function updating porter.jobs itself would, then sleeps.
        try await porter.pool.query("""
            CREATE FUNCTION app.hold_own_row(args jsonb) RETURNS void LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM 1 FROM porter.jobs WHERE id = porter.current_job_id() FOR UPDATE;
                INSERT INTO app.effects (job, note) VALUES (porter.current_job_id(), 'locked');
                PERFORM pg_sleep(60);
            END $$
            """)
        let id = try #require(try await porter.enqueue(method: "sql:app.hold_own_row").id)
        let worker = RunningWorker(porter, fastConfiguration())
        // Its effect is not committed yet, so watch for the lock: a started row that a
        // SKIP LOCKED read cannot take.
        try await waitUntil(timeout: .seconds(15), "the job to lock its row") {
            guard try await porter.job(id: id)?.status == .started else { return false }
            return try await porter.pool.query("SELECT id FROM porter.jobs WHERE id = \(id) FOR UPDATE SKIP LOCKED").isEmpty
        }
        #expect(try await porter.cancel(id: id) == .requested)
        try await waitForJob(porter, id, .canceled, timeout: .seconds(10))
        #expect(try await effects(porter, job: id) == 0)
        try await worker.shutdown()
        await porter.close()
    }
}
