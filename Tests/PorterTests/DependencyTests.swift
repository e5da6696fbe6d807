import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

@Suite struct DependencyTests {
    @Test func dependantWaitsUntilEveryParentHasFinished() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let first = try #require(try await porter.enqueue(method: "sql:app.record", args: PQJSON(text: #"{"note": "a"}"#)).id)
        let second = try #require(try await porter.enqueue(method: "sql:app.record", args: PQJSON(text: #"{"note": "b"}"#)).id)
        let child = try #require(try await porter.enqueue(
            method: "sql:app.record", args: PQJSON(text: #"{"note": "child"}"#),
            options: EnqueueOptions(dependsOn: [first, second])).id)
        let waiting = try #require(try await porter.job(id: child))
        #expect(waiting.status == .deferred)
        #expect(waiting.dependsOn == [first, second])

        let worker = RunningWorker(porter, fastConfiguration())
        let done = try await waitForJob(porter, child, .finished)
        for parent in [first, second] {
            let parentRow = try #require(try await porter.job(id: parent))
            #expect(parentRow.status == .finished)
            let parentEnded = try #require(parentRow.endedAt)
            let childStarted = try #require(done.startedAt)
            #expect(parentEnded <= childStarted)
        }
        #expect(try await effects(porter, job: child) == 1)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func parentFailureCancelsDependantsNamingTheParent() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let parent = try #require(try await porter.enqueue(method: "sql:app.fail", args: PQJSON(text: #"{"outlet": "X"}"#)).id)
        let child = try #require(try await porter.enqueue(method: "sql:app.record", options: EnqueueOptions(dependsOn: [parent])).id)
        let grandchild = try #require(try await porter.enqueue(method: "sql:app.record", options: EnqueueOptions(dependsOn: [child])).id)

        let worker = RunningWorker(porter, fastConfiguration())
        try await waitForJob(porter, parent, .failed)
        let canceled = try await waitForJob(porter, child, .canceled)
        #expect(canceled.error == "canceled: job \(parent) (sql:app.fail), which this job depends on, failed")
        let cascaded = try await waitForJob(porter, grandchild, .canceled)
        #expect(cascaded.error == "canceled: job \(child) (sql:app.record), which this job depends on, canceled")
        #expect(try await effects(porter, job: child) == 0)

        // Depending on a job that already failed cancels at once.
        let late = try #require(try await porter.enqueue(method: "sql:app.record", options: EnqueueOptions(dependsOn: [parent])).id)
        let lateRow = try #require(try await porter.job(id: late))
        #expect(lateRow.status == .canceled)
        #expect(lateRow.error?.contains("job \(parent) (sql:app.fail)") == true)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func retryingAFailedParentBringsBackItsCanceledDependants() async throws {
        actor Calls {
            var count = 0
            func next() -> Int {
                count += 1
                return count
            }
        }
        let calls = Calls()
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        // Fails the first time only.
        registry.register(method: "test.flaky") { _, _ in
            struct Flaky: Error {}
            if await calls.next() == 1 { throw Flaky() }
            return nil
        }
        registry.register(method: "test.ok") { _, _ in nil }
        let porter = database.makeClient(registry: registry)
        let parent = try #require(try await porter.enqueue(method: "test.flaky").id)
        let child = try #require(try await porter.enqueue(method: "test.ok", options: EnqueueOptions(dependsOn: [parent])).id)
        let grandchild = try #require(try await porter.enqueue(method: "test.ok", options: EnqueueOptions(dependsOn: [child])).id)
        let worker = RunningWorker(porter, fastConfiguration())
        try await waitForJob(porter, parent, .failed)
        try await waitForJob(porter, grandchild, .canceled)

        // The child cannot run while its parent stays failed.
        let refused = await #expect(throws: PorterError.self) { try await porter.retry(id: child) }
        #expect(refused?.message.contains("retry job \(parent) first") == true)
        #expect(try await porter.job(id: child)?.status == .canceled)

        // Retrying the parent brings the chain back; it then runs in order.
        try await porter.retry(id: parent)
        for id in [parent, child, grandchild] { try await waitForJob(porter, id, .finished) }
        let ends = try await porter.pool.query(
            "SELECT array_agg(id ORDER BY started_at) FROM porter.jobs WHERE id IN (\(parent), \(child), \(grandchild))"
        ).single([Int64].self)
        #expect(ends == [parent, child, grandchild])
        try await worker.shutdown()
        await porter.close()
    }

    @Test func parentCancelCancelsDependant() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let parent = try #require(try await porter.enqueue(method: "app.never_run").id)
        let child = try #require(try await porter.enqueue(method: "app.after", options: EnqueueOptions(dependsOn: [parent])).id)
        #expect(try await porter.cancel(id: parent) == .canceled)
        let row = try #require(try await porter.job(id: child))
        #expect(row.status == .canceled)
        #expect(row.error == "canceled: job \(parent) (app.never_run), which this job depends on, canceled")

        // A deferred job can itself be canceled.
        let other = try #require(try await porter.enqueue(method: "app.never_run").id)
        let waiting = try #require(try await porter.enqueue(method: "app.after", options: EnqueueOptions(dependsOn: [other])).id)
        #expect(try await porter.cancel(id: waiting) == .canceled)
        #expect(try await porter.job(id: waiting)?.status == .canceled)
        await porter.close()
    }

    @Test func twoParentsEndingInConcurrentTransactionsReleaseTheDependant() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let first = try #require(try await porter.enqueue(method: "app.a").id)
        let second = try #require(try await porter.enqueue(method: "app.b").id)
        let child = try #require(try await porter.enqueue(method: "app.c", options: EnqueueOptions(dependsOn: [first, second])).id)
        let one = try await database.connect()
        let two = try await database.connect()
        // Each parent finishes in its own open transaction; neither sees the other's commit
        // when its own UPDATE runs. The dependant must still be released exactly once.
        try await one.execute("BEGIN")
        try await one.query("UPDATE porter.jobs SET status = 'finished', ended_at = now() WHERE id = \(first)")
        try await two.execute("BEGIN")
        let secondUpdate = Task {
            try await two.query("UPDATE porter.jobs SET status = 'finished', ended_at = now() WHERE id = \(second)")
        }
        // The second UPDATE's trigger waits on the dependant's lock until the first commits.
        try await waitUntil(timeout: .seconds(10), "the second release to wait for the first") {
            try await porter.pool.query(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).single(Int.self) == 1
        }
        try await one.execute("COMMIT")
        _ = try await secondUpdate.value
        try await two.execute("COMMIT")
        #expect(try await porter.job(id: child)?.status == .queued)
        await one.close()
        await two.close()
        await porter.close()
    }

    @Test func dependsOnIsValidatedAndWorksInBatches() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        await #expect {
            try await porter.enqueue(method: "app.c", options: EnqueueOptions(dependsOn: [987_654]))
        } throws: { error in
            (error as? PorterError)?.code == .invalidArgument(parameter: "depends_on")
                && "\(error)".contains("depends_on names job 987654, which does not exist")
        }
        let parent = try #require(try await porter.enqueue(method: "app.a").id)
        let results = try await porter.enqueueMany([
            EnqueueRequest(method: "app.b"),
            EnqueueRequest(method: "app.c", options: EnqueueOptions(dependsOn: [parent])),
        ])
        let plain = try #require(results[0].id)
        let dependant = try #require(results[1].id)
        #expect(try await porter.job(id: plain)?.status == .queued)
        #expect(try await porter.job(id: dependant)?.status == .deferred)
        #expect(try await porter.job(id: dependant)?.dependsOn == [parent])
        await porter.close()
    }
}
