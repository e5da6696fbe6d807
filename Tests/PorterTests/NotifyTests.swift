import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

@Suite struct NotifyTests {
    @Test func enqueueNotifiesWorkersOnlyWhenTheTransactionCommits() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let listener = PQListener(database.configuration)
        defer { listener.stop() }
        try await listener.listen("porter_enqueue")
        var wakeUps = listener.notifications(channel: "porter_enqueue").makeAsyncIterator()
        let marker = try await database.connect()

        let transaction = try await database.connect()
        try await transaction.execute("BEGIN")
        try await porter.enqueue(GenerateReport(), options: EnqueueOptions(queue: "short"), on: transaction)
        // Notifications arrive in commit order: a marker committed now must arrive first.
        try await marker.query("SELECT pg_notify('porter_enqueue', 'marker-1')")
        #expect(await wakeUps.next()?.payload == "marker-1")
        try await transaction.execute("COMMIT")
        #expect(await wakeUps.next()?.payload == "short")

        // A rolled-back enqueue sends nothing.
        try await transaction.execute("BEGIN")
        try await porter.enqueue(GenerateReport(), options: EnqueueOptions(queue: "long"), on: transaction)
        try await transaction.execute("ROLLBACK")
        try await marker.query("SELECT pg_notify('porter_enqueue', 'marker-2')")
        #expect(await wakeUps.next()?.payload == "marker-2")
        #expect(try await jobCount(database, where: "queue = 'long'") == 0)

        // A batch over two queues wakes each queue once.
        _ = try await porter.enqueueMany([
            EnqueueRequest(method: "a", options: EnqueueOptions(queue: "short")),
            EnqueueRequest(method: "b", options: EnqueueOptions(queue: "short")),
            EnqueueRequest(method: "c", options: EnqueueOptions(queue: "default")),
        ])
        try await marker.query("SELECT pg_notify('porter_enqueue', 'marker-3')")
        var payloads: [String] = []
        while let next = await wakeUps.next(), next.payload != "marker-3" { payloads.append(next.payload) }
        #expect(payloads.sorted() == ["default", "short"])
        await porter.close()
    }

    /// A job enqueued while a starting worker has claimed once but does not listen yet runs at
    /// once, not at the poll: the worker claims again when its LISTEN is in place. Here the
    /// worker's LISTEN waits in a proxy while the job is enqueued; polls are a minute apart.
    @Test func aJobEnqueuedBeforeAStartingWorkerListensRunsWithoutWaitingForThePoll() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let proxy = try await FreezableProxy.start(for: database)
        defer { proxy.close() }
        proxy.holdRequests(containing: "LISTEN \"porter_enqueue\"")
        let behindProxy = PorterClient(pool: PQPool(try PQConfiguration(proxy.connectionString(for: database)), maximumConnections: 4))
        let worker = RunningWorker(behindProxy, fastConfiguration { $0.pollInterval = .seconds(60) }, queues: ["default"])
        try await waitUntil(timeout: .seconds(15), "the worker's first claim") {
            try await porter.pool.query(
                "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE query LIKE '%porter.claim_queued%' AND pid <> pg_backend_pid()"
            ).single(Int.self) > 0
        }
        let id = try #require(try await porter.enqueue(method: "sql:app.record").id)
        proxy.releaseHeldRequests()
        try await waitForJob(porter, id, .finished, timeout: .seconds(20))
        try await worker.shutdown()
        await behindProxy.close()
    }
}
