import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// A worker cut off from the database stops its own jobs before a rescuer can give them to
/// another worker, so no job runs on two live workers at once for more than a moment.
@Suite struct SelfFencingTests {
    /// When each run of a job began and ended, on which worker.
    actor Runs {
        struct Run: Sendable {
            var job: Int64
            var worker: String
            var began: ContinuousClock.Instant
            var ended: ContinuousClock.Instant?
        }
        private(set) var runs: [Run] = []

        func begin(_ job: Int64, on worker: String) -> Int {
            runs.append(Run(job: job, worker: worker, began: .now))
            return runs.count - 1
        }

        func end(_ index: Int) { runs[index].ended = .now }

        func on(_ worker: String) -> [Run] { runs.filter { $0.worker == worker } }
    }

    struct Hold: Job {
        static let method = "test.hold"
    }

    static func registry(_ runs: Runs, worker: String) -> JobRegistry {
        var registry = JobRegistry()
        registry.register(Hold.self) { _, context in
            let index = await runs.begin(context.id ?? -1, on: worker)
            defer { Task { await runs.end(index) } }
            try await Task.sleep(for: .seconds(60))
        }
        return registry
    }

    @Test func aWorkerBehindAFrozenConnectionStopsItsJobsBeforeAnotherWorkerRunsThem() async throws {
        let database = try await TestDatabase.create()
        let proxy = try await FreezableProxy.start(for: database)
        defer { proxy.close() }
        let runs = Runs()
        let configuration = fastConfiguration {
            $0.queues["default"] = QueueConfiguration(timeout: 300, backgroundWorkers: 4)
        }
        // Worker A reaches the database only through the proxy: every connection it opens
        // (jobs, heartbeats, listener, maintenance) goes through it.
        let cutOff = PorterClient(
            pool: PQPool(try PQConfiguration(proxy.connectionString(for: database)), maximumConnections: 12),
            registry: Self.registry(runs, worker: "A"))
        let a = RunningWorker(cutOff, configuration, queues: ["default"])
        let porter = database.makeClient()
        let ids = try await porter.enqueueMany((0..<3).map { _ in EnqueueRequest(method: Hold.method) }).compactMap(\.id)
        try await waitUntil(timeout: .seconds(15), "worker A to run the three jobs") { await runs.on("A").count == 3 }

        let b = RunningWorker(database.makeClient(maximumConnections: 12, registry: Self.registry(runs, worker: "B")), configuration, queues: ["default"])
        proxy.freeze()
        // B rescues the jobs once A's heartbeat is rescue_after (6 s) old, and runs them; A has
        // stopped them at 4.5 s.
        try await waitUntil(timeout: .seconds(20), "worker B to run the three jobs") { await runs.on("B").count == 3 }
        // Let A run on a while longer, if it still runs them; with fencing it has long stopped.
        try? await waitUntil(timeout: .seconds(3), "worker A's runs to end") { await runs.on("A").allSatisfy { $0.ended != nil } }
        let now = ContinuousClock.now
        for id in ids {
            let onA = try #require(await runs.on("A").first { $0.job == id })
            let onB = try #require(await runs.on("B").first { $0.job == id })
            let overlap = min(onA.ended ?? now, onB.ended ?? now) - max(onA.began, onB.began)
            #expect(overlap <= .zero, "job \(id) ran on both workers at once for \(overlap)")
        }
        // The database shows every job as B's, rescued once.
        let rows = try await porter.pool.query(
            "SELECT count(*) FROM porter.jobs WHERE status = 'started' AND orphaned = 1 AND worker_id = \(b.id)").single(Int.self)
        #expect(rows == 3)

        proxy.thaw()
        try await b.shutdown()
        try await a.shutdown()
        await cutOff.close()
        await porter.close()
    }
}
