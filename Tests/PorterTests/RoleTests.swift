import Foundation
import Logging
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// A database migrated by a role that is no superuser and owns schema porter, with an
/// application (enqueuer), a worker and a dashboard (reader) granted by that owner, as the
/// RolesAndPrivileges article does it.
struct RoleSetup {
    var roles: TestRoles
    let owner: PorterClient
    let app: PorterClient
    let reader: PorterClient

    static func make() async throws -> RoleSetup {
        let database = try await TestDatabase.create(migrated: false)
        var roles = TestRoles(database)
        let owner = try await roles.create("owner", options: "NOSUPERUSER NOCREATEDB NOCREATEROLE")
        try await roles.admin.pool.query("GRANT CREATE ON DATABASE \(identifier: database.name) TO \(identifier: owner)")
        let app = try await roles.create("app")
        let worker = try await roles.create("worker")
        let dashboard = try await roles.create("dashboard")
        // The application writes its own tables, in a schema of its own.
        try await roles.admin.pool.query("CREATE SCHEMA shop AUTHORIZATION \(identifier: app)")
        let asOwner = try roles.client("owner")
        try await asOwner.migrate()
        try await asOwner.pool.query("SELECT porter.grant_enqueuer(\(app))")
        try await asOwner.pool.query("SELECT porter.grant_worker(\(worker))")
        try await asOwner.pool.query("SELECT porter.grant_reader(\(dashboard))")
        return RoleSetup(roles: roles, owner: asOwner, app: try roles.client("app"), reader: try roles.client("dashboard"))
    }

    func worker(registry: JobRegistry = JobRegistry()) throws -> PorterClient {
        try roles.client("worker", registry: registry, maximumConnections: 6)
    }

    func close() async {
        await owner.close()
        await app.close()
        await reader.close()
        await roles.dropAll()
    }
}

/// Expects `sql` to be refused with SQLSTATE `sqlState` (42501, insufficient_privilege, by
/// default) on `client`'s pool.
func expectRefused(
    _ sql: String, on client: PorterClient, _ sqlState: SQLState = SQLState("42501"),
    sourceLocation: SourceLocation = #_sourceLocation
) async {
    do {
        try await client.pool.query(PQQuery(stringLiteral: sql))
        Issue.record("\(sql) was allowed", sourceLocation: sourceLocation)
    } catch let error as PQError {
        #expect(error.sqlState == sqlState, "\(sql): \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("\(sql): \(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct RoleTests {
    @Test func anEnqueuerEnqueuesAndFollowsItsOwnJobsWithNoRightOnAnyTable() async throws {
        let setup = try await RoleSetup.make()
        let app = setup.app
        let mine = try #require(try await app.enqueue(method: "shop.sync", args: PQJSON(text: #"{"secret": "mine"}"#)).id)
        let batch = try await app.enqueueMany([
            EnqueueRequest(method: "shop.a"), EnqueueRequest(method: "shop.b", options: EnqueueOptions(dependsOn: [mine])),
        ]).compactMap(\.id)
        #expect(batch.count == 2)
        #expect(try await app.enqueueMany([GenerateReport(outletGroup: "a"), GenerateReport(outletGroup: "b")]).compactMap(\.id).count == 2)
        let document = try #require(try await app.enqueueDoc(doctype: "Outlet", name: "A1", method: "sync").id)
        #expect(try await app.enqueue(method: "shop.sync", options: EnqueueOptions(jobID: "k", deduplicate: true)).id != nil)
        #expect(try await app.enqueue(method: "shop.sync", options: EnqueueOptions(jobID: "k", deduplicate: true)) == .duplicate(jobID: "k"))
        // Row events on its own table.
        try await app.pool.query("CREATE TABLE shop.orders (id int PRIMARY KEY)")
        try await app.pool.query("""
            CREATE TRIGGER orders_notify AFTER INSERT ON shop.orders
                FOR EACH ROW EXECUTE FUNCTION porter.enqueue_row_event('shop.notify')
            """)
        try await app.pool.query("INSERT INTO shop.orders VALUES (1)")
        let theirs = try #require(try await setup.owner.enqueue(method: "ops.job", args: PQJSON(text: #"{"secret": "theirs"}"#)).id)

        // Every job's status; its own jobs whole; nobody else's args.
        #expect(try await app.jobStatus(id: theirs) == .queued)
        #expect(try await app.jobStatus(id: batch[1]) == .deferred)
        let own = try await app.pool.query("SELECT array_agg(id ORDER BY id) FROM porter.my_jobs").single([Int64].self)
        #expect(own.contains(mine) && own.contains(document) && !own.contains(theirs))
        #expect(own.count == 8)
        #expect(try await app.pool.query("SELECT args->>'secret' FROM porter.my_jobs WHERE id = \(mine)").single(String.self) == "mine")
        #expect(try await app.pool.query("SELECT count(*) FROM porter.my_jobs WHERE id = \(theirs)").single(Int.self) == 0)
        await expectRefused("SELECT args FROM porter.job_states", on: app, SQLState("42703"))
        #expect(try await app.pool.query("SELECT enqueued_by FROM porter.job_states WHERE id = \(theirs)").single(String.self)
            == setup.roles.role("owner"))

        // Publishes about its own jobs only.
        try await app.publishRealtime(event: "synced", job: mine)
        try await app.publishRealtime(event: "hello")
        try await app.pool.query("SELECT porter.publish_job_progress(\(mine), 40, 'syncing')")
        await expectRefused("SELECT porter.publish_realtime('synced', '{}', \(theirs))", on: app)
        await expectRefused("SELECT porter.publish_job_progress(\(theirs), 40)", on: app)
        #expect(try await setup.owner.job(id: theirs)?.progress == nil)

        // No table, and nothing else of Porter's.
        for sql in [
            "SELECT * FROM porter.jobs", "INSERT INTO porter.jobs (method) VALUES ('x')",
            "UPDATE porter.jobs SET status = 'finished'", "DELETE FROM porter.jobs", "SELECT * FROM porter.workers",
            "SELECT * FROM porter.settings", "UPDATE porter.settings SET max_args_bytes = 2000000000",
            "SELECT porter.set_limit('max_args_bytes', 2000000)", "SELECT porter.grant_worker(current_user)",
            "SELECT porter.job_event_payload(1, 'started', 'm', 'q', 1, NULL)", "SELECT * FROM porter.schedule",
            "SELECT nextval(pg_get_serial_sequence('porter.jobs', 'id'))", "CREATE TABLE porter.mine (id int)",
            "SELECT pg_catalog.count(*) FROM porter.grantees",
        ] {
            await expectRefused(sql, on: app)
        }
        await setup.close()
    }

    @Test func aReaderSeesStatusesCountsAndTimingsButNoArgsAndChangesNothing() async throws {
        let setup = try await RoleSetup.make()
        let reader = setup.reader
        let id = try #require(try await setup.app.enqueue(method: "shop.sync", args: PQJSON(text: #"{"secret": "s"}"#)).id)
        try await setup.owner.pool.query("UPDATE porter.jobs SET status = 'started', worker_id = 'w', progress = '{\"percent\": 5}' WHERE id = \(id)")
        #expect(try await reader.jobStatus(id: id) == .started)
        #expect(try await reader.pool.query("SELECT count(*) FROM porter.job_states WHERE status = 'started'").single(Int.self) == 1)
        _ = try await reader.pool.query("SELECT * FROM porter.workers")
        _ = try await reader.pool.query("SELECT * FROM porter.schedule")
        // `porter watch` as a reader: the stored progress of running jobs.
        let listener = RealtimeListener(client: reader)
        let progress = try await listener.currentProgress()
        #expect(progress.map(\.job) == [id])
        listener.stop()
        // `porter stats` and the read-only dashboard as a reader.
        #expect(try await reader.stats()[queue: "default"]?.started == 1)
        _ = try await reader.pool.query("SELECT * FROM porter.paused_queues")
        for sql in [
            "SELECT * FROM porter.jobs", "SELECT * FROM porter.my_jobs", "SELECT porter.enqueue('x')",
            "SELECT porter.enqueue_many('[]')", "SELECT porter.publish_realtime('e')",
            "UPDATE porter.workers SET heartbeat_at = now()", "DELETE FROM porter.realtime_messages",
            "SELECT porter.grant_reader(current_user)", "SELECT porter.pause_queue('default')",
            "SELECT porter.resume_queue('default')", "SELECT porter.retry_jobs()", "SELECT porter.cancel_jobs()",
            "SELECT porter.delete_jobs(interval '1 day')", "SELECT porter.requeue_jobs(ARRAY[1::bigint])",
            "INSERT INTO porter.paused_queues (queue) VALUES ('default')",
        ] {
            await expectRefused(sql, on: reader)
        }
        await setup.close()
    }

    @Test func aWorkerRunningAsTheWorkerRoleRunsRetriesRescuesSchedulesAndPrunes() async throws {
        let setup = try await RoleSetup.make()
        let owner = setup.owner
        let workerRole = setup.roles.role("worker")
        // The owner of schema app lets the worker call its functions, as the README says to.
        try await createSQLJobs(owner)
        try await owner.pool.query("GRANT USAGE ON SCHEMA app TO \(identifier: workerRole)")
        try await owner.pool.query("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA app TO \(identifier: workerRole)")
        try await owner.pool.query("GRANT SELECT, INSERT ON app.effects TO \(identifier: workerRole)")

        var registry = JobRegistry()
        registry.register(method: "shop.noop") { _, _ in nil }
        registry.register(method: "shop.flaky") { _, _ in throw CancellationError() }
        registry.register(method: "shop.progress") { _, context in
            try await context.publishProgress(percent: 50)
            try await context.publishRealtime(event: "halfway")
            return PQJSON(text: #"{"done": true}"#)
        }
        let asWorker = try setup.worker(registry: registry)
        #expect(try await asWorker.pool.query("SELECT current_user").single(String.self) == workerRole)
        let app = setup.app
        let noop = try #require(try await app.enqueue(method: "shop.noop").id)
        let progress = try #require(try await app.enqueue(method: "shop.progress").id)
        let sql = try #require(try await app.enqueue(method: "sql:app.record", args: PQJSON(text: #"{"note": "n"}"#)).id)
        let counted = try #require(try await app.enqueue(method: "sql:app.counted").id)
        let flaky = try #require(try await app.enqueue(method: "shop.flaky", options: EnqueueOptions(maxAttempts: 2)).id)
        let child = try #require(try await app.enqueue(method: "shop.noop", options: EnqueueOptions(dependsOn: [noop])).id)
        let orphan = try #require(try await app.enqueue(method: "shop.noop").id)
        try await owner.pool.query("UPDATE porter.jobs SET status = 'started', worker_id = 'gone', attempts = 1 WHERE id = \(orphan)")

        let worker = RunningWorker(asWorker, fastConfiguration { $0.vacuumThreshold = 1 })
        for id in [noop, progress, sql, counted, child, orphan] { try await waitForJob(owner, id, .finished) }
        let failed = try await waitForJob(owner, flaky, .failed)
        #expect(failed.attempts == 2)
        #expect(try await owner.job(id: progress)?.progress != nil)
        #expect(try await effects(owner, job: sql) == 1)
        #expect(try await owner.pool.query("SELECT orphaned FROM porter.jobs WHERE id = \(orphan)").single(Int.self) == 1)
        // It may retry and cancel, as an operator would.
        try await asWorker.retry(id: flaky)
        try await waitForJob(owner, flaky, .failed)
        let waiting = try #require(try await app.enqueue(method: "shop.noop", options: EnqueueOptions(delay: .seconds(3600))).id)
        #expect(try await asWorker.cancel(id: waiting) == .canceled)
        // And pause, resume and act in bulk (on a queue with no job, so the counts below stay).
        #expect(try await asWorker.pauseQueue("shop"))
        #expect(try await asWorker.resumeQueue("shop"))
        #expect(try await asWorker.retryJobs(JobSelection(status: .canceled, queue: "shop")) == 0)
        #expect(try await asWorker.cancelJobs(JobSelection(status: .queued, queue: "shop")) == 0)
        #expect(try await asWorker.deleteJobs(JobSelection(status: .failed, queue: "shop"), olderThan: .seconds(3600)) == 0)
        try await worker.shutdown()

        // Its scheduler fires through porter.enqueue and keeps the schedule tables.
        var schedule = ScheduleConfiguration()
        try schedule.add("all", method: "shop.noop")
        let scheduler = Scheduler(client: asWorker, configuration: schedule)
        try await scheduler.register(now: Date())
        #expect(try await scheduler.tick(now: Date().addingTimeInterval(120)).fired.count == 1)

        // Its maintenance prunes; it does not own porter.jobs, so it leaves vacuum to autovacuum.
        try await owner.pool.query("UPDATE porter.jobs SET ended_at = now() - interval '30 days' WHERE ended_at IS NOT NULL")
        let maintenance = Maintenance(pool: asWorker.pool, configuration: fastConfiguration { $0.vacuumThreshold = 1 }, logger: Logger(label: "test"))
        let pass = try await maintenance.runOnce()
        #expect(pass.pruned >= 8)
        #expect(!pass.vacuumed)

        // It changes what a run changes, nothing else.
        for sql in [
            "INSERT INTO porter.jobs (method) VALUES ('x')", "UPDATE porter.jobs SET args = '{}'",
            "UPDATE porter.jobs SET method = 'x'", "UPDATE porter.jobs SET queue = 'x'",
            "SELECT porter.set_limit('max_args_bytes', 2000000)", "SELECT porter.grant_enqueuer(current_user)",
            "UPDATE porter.settings SET max_args_bytes = 2000000000", "DROP TABLE porter.workers",
            "ALTER TABLE porter.jobs DROP CONSTRAINT jobs_args_within_limit", "CREATE FUNCTION porter.f() RETURNS int RETURN 1",
        ] {
            await expectRefused(sql, on: asWorker)
        }
        await asWorker.close()
        await setup.close()
    }

    @Test func aPorterWorkerProcessRunsAsTheWorkerRole() async throws {
        let setup = try await RoleSetup.make()
        let workerRole = setup.roles.role("worker")
        try await createSQLJobs(setup.owner)
        try await setup.owner.pool.query("GRANT USAGE ON SCHEMA app TO \(identifier: workerRole)")
        try await setup.owner.pool.query("GRANT EXECUTE ON FUNCTION app.record(jsonb) TO \(identifier: workerRole)")
        try await setup.owner.pool.query("GRANT SELECT, INSERT ON app.effects TO \(identifier: workerRole)")
        let ids = try await setup.app.enqueueMany([
            EnqueueRequest(method: "porter.noop"), EnqueueRequest(method: "sql:app.record"),
        ]).compactMap(\.id)
        let process = try WorkerProcess(
            database: setup.roles.database, config: WorkerProcessTests.config,
            databaseURL: try setup.roles.configuration("worker").connectionString)
        for id in ids { try await waitForJob(setup.owner, id, .finished) }
        process.kill(SIGTERM)
        #expect(try await process.waitForExit() == 0, "\(process.output)")
        #expect(!process.output.contains("superuser"), "\(process.output)")
        #expect(try await setup.owner.pool.query("SELECT count(DISTINCT worker_id) FROM porter.jobs").single(Int.self) == 0)
        await setup.close()
    }

    @Test func migrationsNeedNoSuperuserAndNoPorterFunctionIsLeftToPublic() async throws {
        let setup = try await RoleSetup.make()
        // Every function pins its search_path, or has a SQL-standard body bound at creation;
        // none may be executed by PUBLIC.
        let loose = try await setup.owner.pool.query("""
            SELECT p.oid::regprocedure::text FROM pg_proc p
            WHERE p.pronamespace = 'porter'::regnamespace
              AND (has_function_privilege('public', p.oid, 'EXECUTE')
                   OR NOT (p.prosqlbody IS NOT NULL
                           OR coalesce('search_path=pg_catalog, pg_temp' = ANY(p.proconfig), false)))
            ORDER BY 1
            """).map { try $0.decode(String.self) }
        #expect(loose == [])
        let owner = try await setup.owner.pool.query(
            "SELECT pg_get_userbyid(nspowner)::text FROM pg_namespace WHERE nspname = 'porter'").single(String.self)
        #expect(owner == setup.roles.role("owner"))
        #expect(try await setup.owner.pool.query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").single(Bool.self) == false)
        await setup.close()
    }

    @Test func revokeGrantsTakesBackWhatAGrantGaveAndAMissingRoleIsNamed() async throws {
        let setup = try await RoleSetup.make()
        _ = try await setup.app.enqueue(method: "shop.sync")
        try await setup.owner.pool.query("SELECT porter.revoke_grants(\(setup.roles.role("app")))")
        let fresh = try setup.roles.client("app")
        await expectRefused("SELECT porter.enqueue('shop.sync')", on: fresh)
        await expectRefused("SELECT * FROM porter.job_states", on: fresh)
        await fresh.close()
        let missing = try await #require(throws: PQError.self) {
            try await setup.owner.pool.query("SELECT porter.grant_enqueuer('nobody_at_all')")
        }
        #expect(missing.sqlState == SQLState("42704"))
        #expect(missing.hint?.contains("CREATE ROLE nobody_at_all") == true)
        await setup.close()
    }
}
