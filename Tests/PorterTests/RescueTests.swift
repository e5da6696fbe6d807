import Foundation
import Logging
import Porter
import PorterPostgres
import PorterTesting
import Testing

@Suite struct RescueTests {
    /// Makes job `id` look started by a worker whose last heartbeat was a minute ago.
    func orphan(_ porter: PorterClient, _ id: Int64) async throws {
        try await porter.pool.query("INSERT INTO porter.workers (id, host, pid, queues, heartbeat_at) VALUES ('dead', 'h', 1, '{default}', now() - interval '1 minute') ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at")
        try await porter.pool.query("UPDATE porter.jobs SET status = 'started', worker_id = 'dead', started_at = now(), attempts = attempts + 1 WHERE id = \(id)")
    }

    @Test func jobOfADeadWorkerIsRequeuedAndPoisonFailsAfterThreeOrphanings() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let maintenance = Maintenance(pool: porter.pool, configuration: fastConfiguration(), logger: Logger(label: "test"))
        let id = try #require(try await porter.enqueue(method: "crashes.its.worker").id)
        for round in 1...2 {
            try await orphan(porter, id)
            let result = try await maintenance.runOnce()
            #expect(result.requeued == [id])
            let job = try #require(try await porter.job(id: id))
            #expect(job.status == .queued)
            #expect(try await porter.pool.query("SELECT orphaned FROM porter.jobs WHERE id = \(id)").single(Int.self) == round)
        }
        try await orphan(porter, id)
        let result = try await maintenance.runOnce()
        #expect(result.poisoned == [id])
        let job = try #require(try await porter.job(id: id))
        #expect(job.status == .failed)
        #expect(job.error?.contains("poison") == true)
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.workers").single(Int.self) == 0)
        await porter.close()
    }

    @Test func rescuerLeavesLiveWorkersAndCompletedJobsAlone() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let maintenance = Maintenance(pool: porter.pool, configuration: fastConfiguration(), logger: Logger(label: "test"))
        let live = try #require(try await porter.enqueue(method: "a").id)
        let done = try #require(try await porter.enqueue(method: "b").id)
        try await porter.pool.query("INSERT INTO porter.workers (id, host, pid, queues, heartbeat_at) VALUES ('alive', 'h', 1, '{default}', now() + interval '1 hour')")
        try await porter.pool.query("UPDATE porter.jobs SET status = 'started', worker_id = 'alive' WHERE id = \(live)")
        try await porter.pool.query("UPDATE porter.jobs SET status = 'finished', ended_at = now(), worker_id = NULL WHERE id = \(done)")
        let result = try await maintenance.runOnce()
        #expect(result.requeued.isEmpty && result.poisoned.isEmpty)
        #expect(try await porter.job(id: live)?.status == .started)
        #expect(try await porter.job(id: done)?.status == .finished)
        await porter.close()
    }

    @Test func aJobNoLongerHeldByItsLiveWorkerIsStoppedThere() async throws {
        struct Wait: Job {
            static let method = "test.wait"
        }
        actor Runs {
            var started = 0
            var stopped = 0
            func start() { started += 1 }
            func stop() { stopped += 1 }
        }
        let runs = Runs()
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(Wait.self) { _, _ in
            await runs.start()
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                await runs.stop()
                throw error
            }
        }
        let porter = database.makeClient(registry: registry)
        let id = try #require(try await porter.enqueue(Wait()).id)
        let worker = RunningWorker(porter, fastConfiguration())
        try await waitForJob(porter, id, .started)
        try await waitUntil(timeout: .seconds(5), "the handler to start") { await runs.started == 1 }
        // As if a rescuer had given the job to another worker, or the claim had been lost in a
        // server crash and another worker had claimed the job again.
        // That worker is alive (its heartbeat is in the future), so the rescuer leaves it be.
        try await porter.pool.query("INSERT INTO porter.workers (id, host, pid, queues, heartbeat_at) VALUES ('elsewhere', 'h', 1, '{default}', now() + interval '1 hour')")
        try await porter.pool.query("UPDATE porter.jobs SET worker_id = 'elsewhere' WHERE id = \(id)")
        try await waitUntil(timeout: .seconds(5), "the worker to stop the run it no longer holds") { await runs.stopped == 1 }
        // The stopped run wrote nothing: the job is still the other worker's.
        let row = try await porter.pool.query("SELECT status || ' ' || worker_id FROM porter.jobs WHERE id = \(id)").single(String.self)
        #expect(row == "started elsewhere")
        #expect(await runs.started == 1)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func maintenanceVacuumsTheJobsTableOnceItHoldsEnoughDeadRows() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        var configuration = WorkerConfiguration()
        configuration.vacuumThreshold = 500
        let maintenance = Maintenance(pool: porter.pool, configuration: configuration, logger: Logger(label: "test"))
        /// The dead rows the statistics show, once this connection's counts are flushed.
        func deadRows(after change: PQQuery) async throws -> Int {
            try await porter.pool.withConnection { connection in
                try await connection.query(change)
                try await connection.query("SELECT pg_stat_force_next_flush()")
                try await connection.query("SELECT 1")
                return try await connection.query(
                    "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = 'porter.jobs'::regclass").single(Int.self)
            }
        }
        // Autovacuum must not clean up behind the test's back.
        try await porter.pool.query("ALTER TABLE porter.jobs SET (autovacuum_enabled = false)")
        _ = try await porter.enqueueMany((0..<300).map { EnqueueRequest(method: "m\($0)") })
        // 300 dead versions: below the threshold, nothing happens.
        #expect(try await deadRows(after: "UPDATE porter.jobs SET priority = 1") == 300)
        #expect(try await maintenance.runOnce().vacuumed == false)
        // 600: vacuumed, and the dead versions are gone.
        #expect(try await deadRows(after: "UPDATE porter.jobs SET priority = 2") == 600)
        #expect(try await maintenance.runOnce().vacuumed)
        #expect(try await deadRows(after: "SELECT 1") == 0)
        await porter.close()
    }

    @Test func aWorkerWhoseRoleCannotVacuumTheJobsTableLeavesItToAutovacuum() async throws {
        let database = try await TestDatabase.create()
        let owner = database.makeClient()
        let role = "porter_worker_\(database.name)"
        try await owner.pool.query("CREATE ROLE \(identifier: role)")
        try await owner.pool.query("SELECT porter.grant_worker(\(role))")
        try await owner.pool.query("ALTER TABLE porter.jobs SET (autovacuum_enabled = false)")
        _ = try await owner.enqueueMany((0..<50).map { EnqueueRequest(method: "m\($0)") })
        try await owner.pool.withConnection { connection in
            try await connection.query("UPDATE porter.jobs SET priority = 1")
            try await connection.query("SELECT pg_stat_force_next_flush()")
            try await connection.query("SELECT 1")
        }
        // The same server login, acting as a role that may use the tables but does not own them.
        let worker = PQPool(
            try PQConfiguration(database.connectionString + " options='-c role=\(role)'"), maximumConnections: 1)
        #expect(try await worker.query("SELECT current_user").single(String.self) == role)
        var configuration = WorkerConfiguration()
        configuration.vacuumThreshold = 1
        let maintenance = Maintenance(pool: worker, configuration: configuration, logger: Logger(label: "test"))
        #expect(try await maintenance.runOnce().vacuumed == false)
        // Its owner does vacuum it.
        let asOwner = Maintenance(pool: owner.pool, configuration: configuration, logger: Logger(label: "test"))
        #expect(try await asOwner.runOnce().vacuumed)
        await worker.close()
        try await owner.pool.query("DROP OWNED BY \(identifier: role)")
        try await owner.pool.query("DROP ROLE \(identifier: role)")
        await owner.close()
    }

    @Test func pruningDeletesOldFinishedAndFailedJobsOnly() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let maintenance = Maintenance(pool: porter.pool, configuration: WorkerConfiguration(), logger: Logger(label: "test"))
        let ids = try await porter.enqueueMany((0..<5).map { EnqueueRequest(method: "m\($0)") }).compactMap(\.id)
        try await porter.pool.query("UPDATE porter.jobs SET status = 'finished', ended_at = now() - interval '2 days' WHERE id = \(ids[0])")
        try await porter.pool.query("UPDATE porter.jobs SET status = 'finished', ended_at = now() - interval '2 hours' WHERE id = \(ids[1])")
        try await porter.pool.query("UPDATE porter.jobs SET status = 'failed', ended_at = now() - interval '8 days' WHERE id = \(ids[2])")
        try await porter.pool.query("UPDATE porter.jobs SET status = 'failed', ended_at = now() - interval '2 days' WHERE id = \(ids[3])")
        #expect(try await maintenance.runOnce().pruned == 2)
        let left = try await porter.pool.query("SELECT array_agg(id ORDER BY id) FROM porter.jobs").single([Int64].self)
        #expect(left == [ids[1], ids[3], ids[4]])
        await porter.close()
    }
}
