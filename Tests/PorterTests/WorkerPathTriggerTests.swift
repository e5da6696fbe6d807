import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// Migration 0018: a worker's claims and completions send their events and release dependants
/// themselves, so porter.jobs' status trigger skips them; every other writer still gets both
/// from the trigger.
@Suite struct WorkerPathTriggerTests {
    @Test func noUpdateOfTheJobsTableFillsATransitionTable() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.migrate()
        // tgtype bit 16 is UPDATE; a trigger with tgoldtable or tgnewtable makes PostgreSQL copy
        // every updated row, the worker's claims and completions included.
        let filling = try await porter.pool.query("""
            SELECT count(*) FROM pg_trigger
            WHERE tgrelid = 'porter.jobs'::regclass AND tgtype & 16 <> 0
              AND (tgoldtable IS NOT NULL OR tgnewtable IS NOT NULL)
            """).single(Int.self)
        #expect(filling == 0)
        await porter.close()
    }

    @Test func aJobTheWorkerRunsSendsEachStateEventOnce() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(method: "app.once") { _, _ in nil }
        struct Refused: Error {}
        registry.register(method: "app.fails") { _, _ in throw Refused() }
        let porter = database.makeClient(registry: registry)
        let realtime = RealtimeListener(client: porter)
        defer { realtime.stop() }
        try await realtime.start()
        var events = realtime.events().makeAsyncIterator()
        let once = try #require(try await porter.enqueue(method: "app.once").id)
        let fails = try #require(try await porter.enqueue(method: "app.fails", options: EnqueueOptions(maxAttempts: 1)).id)
        let worker = RunningWorker(porter, fastConfiguration())
        try await waitForJob(porter, once, .finished)
        try await waitForJob(porter, fails, .failed)
        try await worker.shutdown()
        // A state change by another writer marks the end of the stream.
        let marker = try #require(try await porter.enqueue(method: "app.marker").id)
        _ = try await porter.cancel(id: marker)
        var seen: [Int64: [String]] = [:]
        while let event = await events.next() {
            guard let job = event.job else { continue }
            seen[job, default: []].append(event.event)
            if job == marker, event.event == "canceled" { break }
        }
        #expect(seen[once] == ["started", "finished"])
        #expect(seen[fails] == ["started", "failed"])
        #expect(seen[marker] == ["canceled"])
        await porter.close()
    }

    @Test func aStatusChangedByHandSendsItsEventAndReleasesOrCancelsItsDependants() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let realtime = RealtimeListener(client: porter)
        defer { realtime.stop() }
        try await realtime.start()
        let finishing = try #require(try await porter.enqueue(method: "app.parent").id)
        let released = try #require(try await porter.enqueue(method: "app.child", options: EnqueueOptions(dependsOn: [finishing])).id)
        let failing = try #require(try await porter.enqueue(method: "app.parent").id)
        let canceled = try #require(try await porter.enqueue(method: "app.child", options: EnqueueOptions(dependsOn: [failing])).id)
        var events = realtime.events().makeAsyncIterator()
        // One statement for both parents, as an operator's UPDATE would be.
        try await porter.pool.query("""
            UPDATE porter.jobs SET status = CASE WHEN id = \(finishing) THEN 'finished' ELSE 'failed' END, ended_at = now()
            WHERE id IN (\(finishing), \(failing))
            """)
        #expect(try await porter.job(id: released)?.status == .queued)
        let cancelRow = try #require(try await porter.job(id: canceled))
        #expect(cancelRow.status == .canceled)
        #expect(cancelRow.error == "canceled: job \(failing) (app.parent), which this job depends on, failed")
        var seen: [String] = []
        while seen.count < 4, let event = await events.next() {
            if let job = event.job { seen.append("\(event.event) \(job)") }
        }
        #expect(Set(seen) == ["finished \(finishing)", "failed \(failing)", "queued \(released)", "canceled \(canceled)"])
        await porter.close()
    }

    @Test func aRetryIsDueExactlyItsDelayAfterTheFailureItRecords() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        struct Refused: Error {}
        registry.register(method: "app.flaky") { _, _ in throw Refused() }
        let porter = database.makeClient(registry: registry)
        // 30 s: the retry is not claimed while the test reads the row.
        let worker = RunningWorker(porter, fastConfiguration {
            $0.retryPolicy = RetryPolicy(base: .seconds(30), maximum: .seconds(60), jitter: 0)
        })
        let id = try #require(try await porter.enqueue(method: "app.flaky", options: EnqueueOptions(maxAttempts: 2)).id)
        try await waitForJob(porter, id, .scheduled)
        try await worker.shutdown()
        let delay = try await porter.pool.query("""
            SELECT extract(epoch FROM run_at - (errors->0->>'at')::timestamptz)::float8 FROM porter.jobs WHERE id = \(id)
            """).single(Double.self)
        #expect(abs(delay - 30) < 1e-6, "run_at is \(delay) s after the failure")
        await porter.close()
    }
}
