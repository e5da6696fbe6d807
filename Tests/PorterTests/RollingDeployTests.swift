import Foundation
@testable import Porter
import PorterPostgres
import PorterTesting
import Testing

/// During a rolling deploy, workers of two builds run side by side: a job type only the new
/// build knows must reach a new worker, not fail on an old one.
@Suite struct RollingDeployTests {
    struct NewJob: Job {
        static let method = "app.tasks.added_in_this_release"
    }

    struct Blocker: Job {
        static let method = "app.tasks.blocker"
    }

    /// Records every claim of a job (every move to `started`), which the job's row alone
    /// cannot show once the job is handed back.
    func recordClaims(_ porter: PorterClient) async throws {
        try await porter.pool.query("CREATE TABLE public.claims (job bigint NOT NULL, worker text NOT NULL)")
        try await porter.pool.query("""
            CREATE FUNCTION public.record_claim() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO public.claims (job, worker) VALUES (NEW.id, NEW.worker_id);
                RETURN NULL;
            END $$
            """)
        try await porter.pool.query("""
            CREATE TRIGGER jobs_record_claim AFTER UPDATE OF status ON porter.jobs
                FOR EACH ROW WHEN (NEW.status = 'started') EXECUTE FUNCTION public.record_claim()
            """)
    }

    @Test func aJobAnotherLiveWorkerKnowsIsHandedBackUntouchedAndRunsThere() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await recordClaims(porter)
        // The new build's worker knows the new job; it is busy with a blocker, its only slot.
        let release = AsyncStream<Void>.makeStream()
        var newBuild = JobRegistry()
        newBuild.register(Blocker.self) { _, _ in
            for await _ in release.stream { break }
        }
        newBuild.register(NewJob.self) { _, _ in }
        let configuration = fastConfiguration { $0.queues["default"] = QueueConfiguration(timeout: 300, backgroundWorkers: 1) }
        let blocker = try #require(try await porter.enqueue(Blocker()).id)
        let new = RunningWorker(database.makeClient(registry: newBuild), configuration)
        try await waitForJob(porter, blocker, .started)

        // The old build's worker (the stock one) does not know it.
        var oldBuild = JobRegistry()
        oldBuild.register(method: "app.tasks.old") { _, _ in nil }
        let old = RunningWorker(
            database.makeClient(registry: oldBuild),
            fastConfiguration { $0.queues["default"] = QueueConfiguration(timeout: 300, backgroundWorkers: 4) })
        let id = try #require(try await porter.enqueue(NewJob()).id)
        try await waitUntil(timeout: .seconds(10), "the old worker to claim the new job") {
            try await porter.pool.query("SELECT count(*) FROM public.claims WHERE job = \(id)").single(Int.self) == 1
        }
        // Handed back untouched: queued, no attempt used, no error.
        try await waitForJob(porter, id, .queued)
        let row = try #require(try await porter.pool.query(
            "SELECT attempts, orphaned, error IS NULL, errors = '[]', started_at IS NULL FROM porter.jobs WHERE id = \(id)").first)
        let (attempts, orphaned, noError, noErrors, notStarted) = try row.decode((Int, Int, Bool, Bool, Bool).self)
        #expect(attempts == 0 && orphaned == 0 && noError && noErrors && notStarted)
        // And not claimed again by the old worker: a job enqueued after it, which it knows,
        // runs there while the new job waits ahead of it.
        let later = try #require(try await porter.enqueue(method: "app.tasks.old").id)
        try await waitForJob(porter, later, .finished)
        #expect(try await porter.pool.query("SELECT count(*) FROM public.claims WHERE job = \(id)").single(Int.self) == 1)
        #expect(try await porter.job(id: id)?.status == .queued)

        // The new build's worker runs it once it has a free slot.
        release.continuation.finish()
        let job = try await waitForJob(porter, id, .finished)
        #expect(job.attempts == 1)
        let claimers = try await porter.pool.query("SELECT worker FROM public.claims WHERE job = \(id) ORDER BY worker = \(new.id)")
            .map { try $0.decode(String.self) }
        #expect(claimers == [old.id, new.id])
        try await old.shutdown()
        try await new.shutdown()
        await porter.close()
    }

    @Test func aHandedBackJobFailsOnceNoLiveWorkerCanRunItAnyMore() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await recordClaims(porter)
        // The new build's worker, as its row shows it (its heartbeat never goes stale here).
        try await porter.pool.query("""
            INSERT INTO porter.workers (id, host, pid, queues, methods, heartbeat_at)
            VALUES ('new-build', 'h', 1, '{default}', ARRAY[\(NewJob.method)], now() + interval '1 hour')
            """)
        let old = RunningWorker(database.makeClient(), fastConfiguration())
        let id = try #require(try await porter.enqueue(NewJob()).id)
        try await waitUntil(timeout: .seconds(10), "the old worker to claim the new job") {
            try await porter.pool.query("SELECT count(*) FROM public.claims WHERE job = \(id)").single(Int.self) == 1
        }
        try await waitForJob(porter, id, .queued)
        // The new build is rolled back: no live worker can run the job now.
        try await porter.pool.query("DELETE FROM porter.workers WHERE id = 'new-build'")
        let job = try await waitForJob(porter, id, .failed)
        #expect(job.attempts == 1)
        let error = try #require(job.error)
        #expect(error.contains("unknown method \(NewJob.method)") && error.contains(old.id), "\(error)")
        try await old.shutdown()
        await porter.close()
    }

    @Test func aDocumentJobIsKnownByItsDoctypeAndMethodAndAnSQLJobByItsSchema() async throws {
        struct Outlet: Document {
            static let doctype = "Outlet"
            var name: String
            static func load(name: String, context: JobContext) async throws -> Outlet? { Outlet(name: name) }
        }
        var registry = JobRegistry()
        registry.register(method: "app.tasks.sync") { _, _ in nil }
        registry.register(document: Outlet.self, method: "sync_stock") { _, _, _ in }
        let coverage = HandlerCoverage(registry: registry, sqlSchemas: ["app"], sqlFunctions: ["reports.refresh_totals"])
        #expect(coverage.names == ["app.tasks.sync", "porter.run_doc_method:Outlet.sync_stock", "sql:app.*", "sql:reports.refresh_totals"])

        func job(_ method: String, _ args: String = "{}") throws -> ClaimedJob {
            ClaimedJob(id: 1, method: method, queue: "default", args: PQJSON(text: args))
        }
        let document = try job("porter.run_doc_method", #"{"doctype": "Outlet", "name": "SJ-1", "doc_method": "close_day", "kwargs": {}}"#)
        #expect(HandlerCoverage.name(of: document) == "porter.run_doc_method:Outlet.close_day")
        #expect(coverage.refusal(for: document)?.contains("Outlet has no method close_day") == true)
        #expect(coverage.refusal(for: try job("porter.run_doc_method", #"{"doctype": "Outlet", "name": "SJ-1", "doc_method": "sync_stock"}"#)) == nil)
        #expect(coverage.refusal(for: try job("sql:app.record")) == nil)
        #expect(coverage.refusal(for: try job("sql:reports.rebuild"))?.contains("schema reports is not allowed") == true)
        // A function allowed on its own (sql_functions) is this worker's; a look-alike is not.
        #expect(coverage.refusal(for: try job("sql:reports.refresh_totals")) == nil)
        #expect(coverage.refusal(for: try job("sql:\u{212A}app.record")) != nil)
        // A malformed sql: name fails as a bad job wherever it runs.
        #expect(coverage.refusal(for: try job("sql:nodot")) == nil)
        #expect(coverage.refusal(for: try job("app.tasks.other"))?.contains("unknown method app.tasks.other") == true)

        #expect(HandlerCoverage.covers(["sql:reports.*"], "sql:reports.rebuild"))
        #expect(!HandlerCoverage.covers(["sql:app.*"], "sql:reports.rebuild"))
        #expect(HandlerCoverage.covers(["sql:reports.refresh_totals"], "sql:reports.refresh_totals"))
        #expect(!HandlerCoverage.covers(["sql:reports.refresh_totals"], "sql:reports.rebuild"))
        // Byte for byte, as PostgreSQL compares names: KELVIN SIGN is not K.
        #expect(!HandlerCoverage.covers(["sql:Kapp.*"], "sql:\u{212A}app.record"))
        #expect(HandlerCoverage.covers(["porter.run_doc_method:Outlet.close_day"], "porter.run_doc_method:Outlet.close_day"))
        #expect(!HandlerCoverage.covers(["porter.run_doc_method:Outlet.sync_stock"], "porter.run_doc_method:Outlet.close_day"))
        // A worker whose registry takes every document job itself.
        #expect(HandlerCoverage.covers(["porter.run_doc_method"], "porter.run_doc_method:Outlet.close_day"))
    }

    @Test func aJobNoLiveWorkerKnowsFailsAtOnceNamingTheMethodAndTheLiveWorkers() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let worker = RunningWorker(database.makeClient(), fastConfiguration { $0.queues["default"] = QueueConfiguration(timeout: 300, backgroundWorkers: 1, maxAttempts: 3) })
        let id = try #require(try await porter.enqueue(NewJob()).id)
        let job = try await waitForJob(porter, id, .failed)
        #expect(job.attempts == 1)
        let error = try #require(job.error)
        #expect(error.contains(NewJob.method), "\(error)")
        #expect(error.contains(worker.id), "\(error)")
        try await worker.shutdown()
        await porter.close()
    }
}
