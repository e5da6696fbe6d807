import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

// One test at a time: each runs workers or servers, and every suite shares one PostgreSQL's
// connections (max_connections 500).
@Suite(.serialized) struct BulkActionTests {
    /// Inserts `count` failed jobs of `queue` and `method` that ended `ago` ago, in one statement.
    static func failed(_ porter: PorterClient, _ count: Int, queue: String, method: String = "m", ago: String = "1 minute") async throws {
        try await porter.pool.query("""
            INSERT INTO porter.jobs (method, queue, status, attempts, ended_at, error)
            SELECT \(method), \(queue), 'failed', 1, now() - \(ago)::interval, 'boom' FROM generate_series(1, \(count))
            """)
    }

    @Test func retryFailedRequeuesEveryMatchingFailedJobInBatchesAndNothingElse() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await Self.failed(porter, 2_500, queue: "mail")
        try await Self.failed(porter, 10, queue: "mail", method: "other")
        try await Self.failed(porter, 7, queue: "sms")
        try await Self.failed(porter, 4, queue: "mail", ago: "3 days")
        let batches = Totals()
        let retried = try await porter.retryJobs(
            JobSelection(status: .failed, queue: "mail", method: "m", since: Date().addingTimeInterval(-86_400)),
            progress: { total in batches.add(total) })
        #expect(retried == 2_500)
        #expect(batches.values == [1_000, 2_000, 2_500])
        #expect(try await count(porter, queue: "mail", status: .queued) == 2_500)
        #expect(try await count(porter, queue: "mail", status: .failed) == 14)
        #expect(try await count(porter, queue: "sms", status: .failed) == 7)
        // Fresh attempts, as `porter retry ID` gives.
        let row = try #require(try await porter.pool.query(
            "SELECT max(attempts), count(*) FILTER (WHERE ended_at IS NOT NULL) FROM porter.jobs WHERE status = 'queued'").first)
        #expect(try row.decode((Int, Int).self) == (0, 0))
        await porter.close()
    }

    @Test func retryFailedBringsBackTheDependantsTheFailureCanceledAsRetryIDDoes() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let parent = try #require(try await porter.enqueue(method: "sql:app.fail", args: PQJSON(text: #"{"outlet": "X"}"#)).id)
        let child = try #require(try await porter.enqueue(method: "sql:app.record", options: EnqueueOptions(dependsOn: [parent])).id)
        let grandchild = try #require(try await porter.enqueue(method: "sql:app.record", options: EnqueueOptions(dependsOn: [child])).id)
        var worker = RunningWorker(porter, fastConfiguration(), queues: ["default"])
        try await waitForJob(porter, parent, .failed)
        try await waitForJob(porter, grandchild, .canceled)
        try await worker.shutdown()

        // Only the parent failed; its dependants were canceled because of it.
        #expect(try await porter.retryJobs() == 1)
        #expect(try await porter.job(id: parent)?.status == .queued)
        #expect(try await porter.job(id: child)?.status == .deferred)
        #expect(try await porter.job(id: grandchild)?.status == .deferred)
        // Fixed, the parent runs, and its dependants after it.
        try await porter.pool.query("CREATE OR REPLACE FUNCTION app.fail(args jsonb) RETURNS void LANGUAGE sql AS $$ SELECT $$")
        worker = RunningWorker(porter, fastConfiguration(), queues: ["default"])
        for id in [parent, child, grandchild] { try await waitForJob(porter, id, .finished) }
        try await worker.shutdown()
        await porter.close()
    }

    @Test func retryFailedSkipsJobsWhoseJobIDIsTakenAndKeepsTheNewestOfDuplicates() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.pool.query("""
            INSERT INTO porter.jobs (id, method, job_id, status, ended_at) VALUES
                (1, 'm', 'report-1', 'failed', now() - interval '1 minute'),
                (2, 'm', 'report-1', 'queued', NULL),
                (3, 'm', 'report-2', 'failed', now() - interval '2 minutes'),
                (4, 'm', 'report-2', 'failed', now() - interval '1 minute'),
                (5, 'm', NULL, 'failed', now() - interval '1 minute')
            """)
        #expect(try await porter.retryJobs(batchSize: 2) == 2)
        let statuses = try await porter.pool.query("SELECT array_agg(status ORDER BY id) FROM porter.jobs").single([String].self)
        #expect(statuses == ["failed", "queued", "failed", "queued", "queued"])
        await porter.close()
    }

    @Test func retryFailedWhileWorkersFailTheJobsAgainRetriesEachOnce() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        try await Self.failed(porter, 60, queue: "default", method: "sql:app.fail")
        let worker = RunningWorker(porter, fastConfiguration { $0.queues["default"]?.backgroundWorkers = 4 }, queues: ["default"])
        // Small batches, so that jobs retried by the first ones fail again before the last.
        #expect(try await porter.retryJobs(batchSize: 5) == 60)
        try await waitUntil(timeout: .seconds(30), "the 60 jobs to fail again") {
            try await count(porter, queue: "default", status: .failed) == 60
        }
        #expect(try await porter.pool.query("SELECT max(attempts) FROM porter.jobs").single(Int.self) == 1)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func cancelQueuedWhileAWorkerRunsCancelsWhatWaitsAndLeavesWhatRuns() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient(maximumConnections: 20)
        try await createSQLJobs(porter)
        _ = try await porter.enqueueMany((0..<3_000).map { _ in EnqueueRequest(method: "sql:app.record") })
        _ = try await porter.enqueueMany((0..<5).map { _ in EnqueueRequest(method: "sql:app.record", options: EnqueueOptions(queue: "short")) })
        let worker = RunningWorker(porter, fastConfiguration { $0.queues["default"]?.backgroundWorkers = 8 }, queues: ["default"])
        try await waitUntil("the worker to be running jobs") { try await count(porter, queue: "default", status: .finished) > 0 }
        let canceled = try await porter.cancelJobs(JobSelection(status: .queued, queue: "default"), batchSize: 500)
        try await waitUntil("nothing to be running") { try await count(porter, queue: "default", status: .started) == 0 }
        try await worker.shutdown()
        #expect(canceled > 0)
        #expect(try await count(porter, queue: "default", status: .canceled) == canceled)
        #expect(try await count(porter, queue: "default", status: .queued) == 0)
        // Every job ended once: canceled ones never ran, the others ran and finished.
        let finished = try await count(porter, queue: "default", status: .finished)
        #expect(canceled + finished == 3_000)
        #expect(try await porter.pool.query("SELECT count(*) FROM app.effects").single(Int.self) == finished)
        #expect(try await count(porter, queue: "short", status: .queued) == 5)
        await porter.close()
    }

    @Test func cancelDeferredAndScheduledTakeOnlyTheirStatus() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let parent = try #require(try await porter.enqueue(method: "m").id)
        let child = try #require(try await porter.enqueue(method: "m", options: EnqueueOptions(dependsOn: [parent])).id)
        let later = try #require(try await porter.enqueue(method: "m", options: EnqueueOptions(delay: .seconds(3600))).id)
        #expect(try await porter.cancelJobs(JobSelection(status: .deferred)) == 1)
        #expect(try await porter.job(id: child)?.status == .canceled)
        #expect(try await porter.job(id: parent)?.status == .queued)
        #expect(try await porter.cancelJobs(JobSelection(status: .scheduled)) == 1)
        #expect(try await porter.job(id: later)?.status == .canceled)
        await porter.close()
    }

    @Test func deleteFailedOlderThanDeletesOnlyOldFailures() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await Self.failed(porter, 1_200, queue: "mail", ago: "8 days")
        try await Self.failed(porter, 3, queue: "mail", ago: "1 hour")
        try await Self.failed(porter, 2, queue: "sms", ago: "8 days")
        try await porter.pool.query(
            "UPDATE porter.jobs SET status = 'finished' WHERE id IN (SELECT id FROM porter.jobs WHERE queue = 'sms' LIMIT 1)")
        #expect(try await porter.deleteJobs(JobSelection(status: .failed, queue: "mail"), olderThan: .seconds(7 * 86_400)) == 1_200)
        #expect(try await count(porter, queue: "mail", status: .failed) == 3)
        #expect(try await porter.deleteJobs(olderThan: .seconds(86_400)) == 1)
        #expect(try await count(porter, queue: "sms", status: .finished) == 1)
        await porter.close()
    }

    @Test func bulkFunctionsRefuseAStatusTheyDoNotTakeSayingWhichTheyDo() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let error = await #expect(throws: PorterError.self) { try await porter.retryJobs(JobSelection(status: .finished)) }
        #expect(error?.code == .invalidArgument(parameter: "status"))
        #expect(error?.message.contains("failed, canceled") == true, "\(String(describing: error))")
        for statement: PQQuery in [
            "SELECT porter.cancel_jobs(status => 'started')", "SELECT porter.retry_jobs(max_jobs => 0)",
            "SELECT porter.delete_jobs(NULL)", "SELECT porter.delete_jobs(interval '-1 day')",
        ] {
            do {
                try await porter.pool.query(statement)
                Issue.record("accepted: \(statement)")
            } catch let error as PQError {
                #expect(error.sqlState == .invalidParameterValue || error.sqlState == .nullValueNotAllowed, "\(error)")
                #expect(error.column != nil)
            }
        }
        await porter.close()
    }
}

/// The running totals a bulk action reported.
final class Totals: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [Int] = []
    func add(_ value: Int) { lock.withLock { seen.append(value) } }
    var values: [Int] { lock.withLock { seen } }
}
