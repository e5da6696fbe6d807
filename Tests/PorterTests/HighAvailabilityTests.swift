import Foundation
import Logging
import Porter
import PorterPostgres
import PorterTesting
import ServiceLifecycle
import Testing

/// Which worker ran which job to its end, and when.
actor WorkerRuns {
    struct Run: Sendable {
        var job: Int64
        var worker: Int
        var at: ContinuousClock.Instant
    }
    private(set) var runs: [Run] = []
    func record(_ job: Int64?, worker: Int) {
        guard let job else { return }
        runs.append(Run(job: job, worker: worker, at: .now))
    }
}

/// Porter on a three-node Patroni cluster with synchronous replication, whose primary is
/// killed under load. Porter connects with every node in its URL and
/// `target_session_attrs=read-write`; libpq finds the new primary, and Porter's pools,
/// listeners and schedulers reconnect on their own.
@Suite(.serialized) struct HighAvailabilityTests {
    @Test(.timeLimit(.minutes(5)))
    func primaryKilledUnderLoadLosesNoEnqueueAndWorkersFollowTheNewPrimary() async throws {
        let cluster = try await PatroniCluster.start()
        do {
            try await killPrimaryUnderLoad(cluster)
        } catch {
            Issue.record("Patroni's logs: \(cluster.logTail())")
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    private func killPrimaryUnderLoad(_ cluster: PatroniCluster) async throws {
        var logger = Logger(label: "porter.test.ha")
        logger.logLevel = .critical
        let configuration = try PQConfiguration(cluster.url)
        let setup = PorterClient(pool: PQPool(configuration, maximumConnections: 4, logger: logger), logger: logger)
        try await setup.migrate()
        try await createSQLJobs(setup)

        // Two workers, each with its own client, recording the Swift jobs it runs to the end.
        let runs = WorkerRuns()
        let workerConfiguration = fastConfiguration {
            $0.rescueAfter = .seconds(5)
            $0.heartbeatInterval = .milliseconds(300)
            // The load on a queue of its own, so scheduled runs never wait behind it.
            $0.queues["load"] = QueueConfiguration(backgroundWorkers: 6)
        }
        let clients = (0..<2).map { index in
            var registry = JobRegistry()
            registry.register(method: "test.work") { _, context in
                try await Task.sleep(for: .milliseconds(100))
                await runs.record(context.id, worker: index)
                return nil
            }
            registry.register(method: "test.tick") { _, _ in nil }
            return PorterClient(pool: PQPool(configuration, maximumConnections: 12, logger: logger), registry: registry, logger: logger)
        }
        var schedule = ScheduleConfiguration(tickInterval: .milliseconds(500))
        try schedule.add("all", method: "test.tick")
        let workers = clients.map { Worker(client: $0, configuration: workerConfiguration, logger: logger) }
        let schedulers = clients.map { Scheduler(client: $0, configuration: schedule, logger: logger) }
        let group = ServiceGroup(configuration: .init(
            services: workers.map { .init(service: $0) } + schedulers.map { .init(service: $0) }, logger: logger))
        let groupEnded = Shared(false)
        let running = Task {
            defer { groupEnded.value = true }
            try await group.run()
        }
        let realtime = RealtimeListener(client: setup)
        try await realtime.start()

        // Enqueues without pause, a Swift job and an sql: job in turn; an id counts once the
        // enqueue has returned it (acknowledged), and a failed enqueue is simply tried again.
        let acknowledged = Shared<[(id: Int64, sql: Bool)]>([])
        let enqueueing = Shared(true)
        let load = EnqueueOptions(queue: "load")
        let enqueuer = Task {
            var sql = false
            while enqueueing.value {
                do {
                    let id = sql
                        ? try await setup.enqueue(method: "sql:app.slow", args: PQJSON(text: #"{"sleep": 0.3}"#), options: load).id!
                        : try await setup.enqueue(method: "test.work", options: load).id!
                    acknowledged.value.append((id, sql))
                    sql.toggle()
                } catch {
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
        }

        // Under load: jobs finishing, sql: jobs in flight.
        try await waitUntil(timeout: .seconds(60), "jobs to flow before the kill") {
            try await setup.pool.query("""
                SELECT count(*) FILTER (WHERE status = 'finished') >= 40
                   AND count(*) FILTER (WHERE status = 'started' AND method LIKE 'sql:%') >= 2
                FROM porter.jobs
                """).single(Bool.self)
        }
        let oldPrimary = try await cluster.primary()
        let killedAt = ContinuousClock.now
        let killedAtDate = Date()
        try cluster.killNode(oldPrimary)

        // A standby is promoted; then the same workers go on, with no restart.
        try await waitUntil(timeout: .seconds(60), every: .milliseconds(100), "a standby to be promoted") {
            (try? await cluster.primary())?.name ?? oldPrimary.name != oldPrimary.name
        }
        let promotedAfter = killedAt.duration(to: .now)
        let acknowledgedAtPromotion = acknowledged.value.count
        try await waitUntil(timeout: .seconds(60), "40 more enqueues after the promotion") {
            acknowledged.value.count >= acknowledgedAtPromotion + 40
        }
        enqueueing.value = false
        await enqueuer.value

        // The listener followed the new primary too.
        let heard = Shared(false)
        let listening = Task {
            for await _ in realtime.events(named: "after_failover") { heard.value = true }
        }
        try await waitUntil(timeout: .seconds(30), every: .milliseconds(300), "the listener to hear an event sent after the failover") {
            if heard.value { return true }
            try await setup.publishRealtime(event: "after_failover")
            return false
        }

        let jobs = acknowledged.value
        let ids = jobs.map(\.id)
        try await waitUntil(timeout: .seconds(90), "every acknowledged job to end") {
            try await setup.pool.query(
                "SELECT count(*) FROM porter.jobs WHERE id = ANY(\(ids)) AND status IN ('finished', 'failed')"
            ).single(Int.self) == ids.count
        }

        // No acknowledged enqueue was lost: synchronous replication had every one on the standby.
        let storedIDs: [Int64] = try await setup.pool.query("SELECT id FROM porter.jobs WHERE id = ANY(\(ids))").map { try $0.decode(Int64.self) }
        let stored = Set(storedIDs)
        #expect(stored == Set(ids), "lost enqueues: \(Set(ids).subtracting(stored).sorted())")

        // sql: jobs: an effect never commits twice, and a finished job's exactly once.
        let sqlIDs = jobs.filter(\.sql).map(\.id)
        let sqlRows = try await setup.pool.query("""
            SELECT j.id, j.status, (SELECT count(*) FROM app.effects e WHERE e.job = j.id)
            FROM porter.jobs j WHERE j.id = ANY(\(sqlIDs))
            """).map { try $0.decode((Int64, String, Int).self) }
        for (id, status, effects) in sqlRows {
            #expect(effects == (status == "finished" ? 1 : 0), "sql: job \(id) is \(status) with \(effects) effects")
        }
        // Finding 4: an sql: job caught mid-transaction by the failover must go back in the
        // queue, not fail. That fix is on the branch that treats a lost connection as no
        // attempt; until it is merged, those jobs end failed (known issue).
        let failedSQL = sqlRows.filter { $0.1 == "failed" }.map(\.0)
        withKnownIssue("finding 4: an sql: job in flight at the failover fails instead of going back in the queue", isIntermittent: true) {
            #expect(failedSQL.isEmpty, "sql: jobs failed by the failover: \(failedSQL)")
        }

        // Swift jobs ran at least once, and every one finished.
        let ranSwift = Set(await runs.runs.map(\.job))
        for id in jobs.filter({ !$0.sql }).map(\.id) {
            #expect(ranSwift.contains(id), "Swift job \(id) never ran to its end")
            #expect(try await setup.job(id: id)?.status == .finished)
        }
        // Both workers carried on after the failover, without a restart.
        let afterPromotion = await runs.runs.filter { $0.at > killedAt + promotedAfter }
        #expect(Set(afterPromotion.map(\.worker)) == [0, 1])
        #expect(!groupEnded.value)

        // The schedulers fired every slot at most once, and went on firing after the failover.
        let fires = try #require(try await setup.pool.query("""
            SELECT count(*), count(DISTINCT fire_at), (SELECT count(*) FROM porter.jobs WHERE method = 'test.tick'),
                   count(*) FILTER (WHERE fire_at > \(killedAtDate))
            FROM porter.schedule_fires WHERE method = 'test.tick' AND job IS NOT NULL
            """).first?.decode((Int, Int, Int, Int).self))
        #expect(fires.0 == fires.1 && fires.1 == fires.2, "fires \(fires.0), slots \(fires.1), jobs \(fires.2)")
        #expect(fires.3 > 0, "no scheduled fire after the failover")

        realtime.stop()
        listening.cancel()
        await group.triggerGracefulShutdown()
        try await running.value
        for client in clients { await client.close() }
        await setup.close()
    }
}
