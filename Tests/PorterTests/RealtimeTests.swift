import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

struct Tally: Job {
    static let method = "test.tally"
    var steps: Int
}

@Suite struct RealtimeTests {
    @Test func swiftJobProgressIsStoredAndPublished() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(Tally.self) { job, context in
            for step in 1...job.steps {
                try await context.publishProgress(percent: Double(step * 100 / job.steps), title: "Tallying", description: "step \(step) of \(job.steps)")
            }
        }
        let porter = database.makeClient(registry: registry)
        let realtime = RealtimeListener(client: porter)
        defer { realtime.stop() }
        try await realtime.start()
        let id = try #require(try await porter.enqueue(Tally(steps: 4)).id)
        var events = realtime.events(named: "progress", job: id).makeAsyncIterator()
        let worker = RunningWorker(porter, fastConfiguration())
        var percents: [Double] = []
        while percents.last != 100, let event = await events.next() {
            percents.append(try #require(event.progress).percent)
            #expect(event.progress?.title == "Tallying")
        }
        #expect(percents == [25, 50, 75, 100])
        let stored = try #require(try await waitForJob(porter, id, .finished).progress)
        #expect(try stored.decode(RealtimeEvent.Progress.self) == RealtimeEvent.Progress(percent: 100, title: "Tallying", description: "step 4 of 4"))
        try await worker.shutdown()
        await porter.close()
    }

    @Test func sqlJobProgressArrivesWhenItsTransactionCommits() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let realtime = RealtimeListener(client: porter)
        defer { realtime.stop() }
        try await realtime.start()
        let id = try #require(try await porter.enqueue(method: "sql:app.counted").id)
        var events = realtime.events(job: id).makeAsyncIterator()
        let worker = RunningWorker(porter, fastConfiguration())
        // Job state events ("started", "finished") come too; the job's own events are in order.
        var own: [RealtimeEvent] = []
        while own.count < 2, let event = await events.next() {
            if event.event == "progress" || event.event == "counted" { own.append(event) }
        }
        let progress = try #require(own.first)
        #expect(progress.event == "progress" && progress.progress?.percent == 50 && progress.progress?.description == "half way")
        let counted = try #require(own.last)
        #expect(counted.event == "counted" && counted.job == id && counted.message.text == #"{"total":7}"#)
        #expect(try await waitForJob(porter, id, .finished).progress != nil)
        // Outside a job, publish_progress says so.
        let error = await #expect(throws: PQError.self) { try await porter.pool.query("SELECT porter.publish_progress(10)") }
        #expect(error?.message.contains("not inside a Porter job") == true)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func anEventInARolledBackTransactionIsNeverDelivered() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let realtime = RealtimeListener(client: porter)
        defer { realtime.stop() }
        try await realtime.start()
        var events = realtime.events().makeAsyncIterator()
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            try await porter.pool.withTransaction { transaction in
                try porter.publishRealtime(event: "order_paid", message: PQJSON(text: #"{"order": 7}"#), on: transaction)
                throw Abort()
            }
        }
        try await porter.publishRealtime(event: "marker")
        #expect(await events.next()?.event == "marker")
        await porter.close()
    }

    @Test func anOversizeMessageArrivesWhole() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let realtime = RealtimeListener(client: porter)
        defer { realtime.stop() }
        try await realtime.start()
        var events = realtime.events(named: "sync_summary").makeAsyncIterator()
        let errors = (1...400).map { "outlet \($0): missing warehouse" }
        let message = try PQJSON(encoding: ["errors": errors])
        #expect(message.text.utf8.count > 8000)
        try await porter.publishRealtime(event: "sync_summary", message: message)
        let event = try #require(await events.next())
        #expect(try event.message.decode([String: [String]].self)["errors"] == errors)
        await porter.close()
    }

    @Test func aFollowerGetsTheStoredProgressAgainAfterReconnecting() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let id = try #require(try await porter.enqueue(method: "long.report").id)
        try await porter.pool.query("SELECT porter.publish_job_progress(\(id), 60, 'Reporting', NULL)")
        let realtime = RealtimeListener(client: porter)
        defer { realtime.stop() }
        try await realtime.start()
        var events = realtime.events(job: id).makeAsyncIterator()
        try await porter.pool.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'")
        let event = try #require(await events.next())
        #expect(event.event == "progress" && event.progress?.percent == 60)
        // And it listens again.
        try await porter.publishRealtime(event: "done", job: id)
        #expect(await events.next()?.event == "done")
        await porter.close()
    }
}

@Suite struct JobStateEventTests {
    @Test func aListenerCanFollowAJobFromStartToEnd() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(Sum.self) { job, _ in job.numbers.reduce(0, +) }
        let porter = database.makeClient(registry: registry)
        let realtime = RealtimeListener(client: porter)
        defer { realtime.stop() }
        try await realtime.start()
        let id = try #require(try await porter.enqueue(Sum(numbers: [1, 2])).id)
        var events = realtime.events(job: id).makeAsyncIterator()
        let worker = RunningWorker(porter, fastConfiguration())
        let started = try #require(await events.next())
        #expect(started.event == "started")
        let finished = try #require(await events.next())
        #expect(finished.event == "finished")
        // Both in the payload of migration 0005's trigger, though the worker sends the first.
        let keys = #"{"attempt":1,"error":null,"method":"math.sum","queue":"default","status":"#
        #expect(started.message.text.replacingOccurrences(of: " ", with: "") == keys + #""started"}"#)
        #expect(finished.message.text.replacingOccurrences(of: " ", with: "") == keys + #""finished"}"#)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func aJobsEventsArriveInOrderFromStartToItsOwnTransactionsEnd() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(Tally.self) { job, context in
            try await context.publishProgress(percent: 50)
            try await context.finish { transaction in
                try transaction.query("SELECT porter.publish_realtime('tallied', jsonb_build_object('steps', \(job.steps)::int))")
            }
        }
        let porter = database.makeClient(registry: registry)
        let realtime = RealtimeListener(client: porter)
        defer { realtime.stop() }
        try await realtime.start()
        let ids = try await porter.enqueueMany((1...20).map { Tally(steps: $0) }).compactMap(\.id)
        var events = realtime.events().makeAsyncIterator()
        let worker = RunningWorker(porter, fastConfiguration())
        var seen: [Int64: [String]] = [:]
        let ends: Set = ["finished", "failed", "canceled"]
        while seen.values.filter({ ends.contains($0.last ?? "") }).count < ids.count, let event = await events.next() {
            if let job = event.job { seen[job, default: []].append(event.event) }
        }
        for id in ids { #expect(seen[id] == ["started", "progress", "finished"], "job \(id)") }
        try await worker.shutdown()
        await porter.close()
    }

    @Test func aWorkerWithJobEventsOffSendsNoStateEventsButStillPublishes() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(Tally.self) { job, context in
            try await context.publishRealtime(event: "tallied", message: try PQJSON(encoding: ["steps": job.steps]))
        }
        let porter = database.makeClient(registry: registry)
        let realtime = RealtimeListener(client: porter)
        defer { realtime.stop() }
        try await realtime.start()
        let quiet = try #require(try await porter.enqueue(Tally(steps: 1)).id)
        var events = realtime.events().makeAsyncIterator()
        let worker = RunningWorker(porter, fastConfiguration { $0.jobEvents = false })
        try await waitForJob(porter, quiet, .finished)
        try await worker.shutdown()
        // A state change by anyone else still sends its event: it marks the end of the stream.
        let marker = try #require(try await porter.enqueue(method: "app.marker").id)
        _ = try await porter.cancel(id: marker)
        var seen: [String] = []
        while let event = await events.next() {
            seen.append("\(event.event) \(event.job.map(String.init) ?? "-")")
            if event.job == marker { break }
        }
        #expect(seen == ["tallied \(quiet)", "canceled \(marker)"])
        await porter.close()
    }
}


@Suite struct JobStateEventOrderTests {
    @Test func everyAttemptsStartedEventPrecedesItsEndEvenOnABacklogAtStartUp() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(method: "porter.noop") { _, _ in nil }
        let porter = database.makeClient(maximumConnections: 20, registry: registry)
        let realtime = RealtimeListener(client: porter)
        defer { realtime.stop() }
        try await realtime.start()
        var ids: [Int64] = []
        for _ in 0..<4 {
            ids += try await porter.enqueueMany((0..<500).map { _ in EnqueueRequest(method: "porter.noop") }).compactMap(\.id)
        }
        var events = realtime.events().makeAsyncIterator()
        // Many slots and instant jobs: claims come back while earlier started events are still
        // being sent, which is where an end could overtake a start.
        let worker = RunningWorker(porter, fastConfiguration {
            $0.queues["default"] = QueueConfiguration(backgroundWorkers: 200)
        })
        var seen: [Int64: [String]] = [:]
        var ended = 0
        while ended < ids.count, let event = await events.next() {
            guard let job = event.job else { continue }
            seen[job, default: []].append(event.event)
            if event.event == "finished" { ended += 1 }
        }
        let outOfOrder = ids.filter { seen[$0] != ["started", "finished"] }
        #expect(outOfOrder.isEmpty, "\(outOfOrder.count) jobs, e.g. \(outOfOrder.prefix(3).map { "\($0): \(seen[$0] ?? [])" })")
        try await worker.shutdown()
        await porter.close()
    }
}
