import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// `now` runs: a handler run in the caller with the limits a worker would give it.
@Suite struct InlineRunTests {
    /// A client whose `reports` queue allows 1 s and whose `default` queue 2 s, with a handler
    /// that sleeps for as long as it is told unless cancelled.
    private func client(cutShort: CutShort = CutShort()) async throws -> PorterClient {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(Nap.self) { job, _ in
            do {
                try await Task.sleep(for: .seconds(job.seconds))
            } catch {
                cutShort.mark()
                throw error
            }
        }
        return database.makeClient(
            registry: registry,
            queues: ["default": QueueConfiguration(timeout: 2), "reports": QueueConfiguration(timeout: 1)])
    }

    /// Runs `Nap(seconds: 10)` inline and returns the error.
    private func napInline(_ porter: PorterClient, _ options: EnqueueOptions) async -> PorterError? {
        var options = options
        options.now = true
        return await #expect(throws: PorterError.self) {
            try await porter.enqueue(Nap(seconds: 10), options: options)
        }
    }

    @Test func anInlineRunTimesOutAfterItsConfiguredQueuesTimeout() async throws {
        let cutShort = CutShort()
        let porter = try await client(cutShort: cutShort)
        let error = await napInline(porter, EnqueueOptions(queue: "reports"))
        #expect(error?.code == .jobFailed)
        #expect(error?.message.contains("timed out after 1 s") == true, "\(String(describing: error))")
        // The handler's nap was cancelled at the timeout, not left to run its 10 s.
        try await waitUntil("the nap to be cut short") { cutShort.happened }
        #expect(try await porter.jobs().isEmpty)
        await porter.close()
    }

    @Test func anInlineRunOnAQueueNotConfiguredTakesTheDefaultQueuesTimeout() async throws {
        let cutShort = CutShort()
        let porter = try await client(cutShort: cutShort)
        let error = await napInline(porter, EnqueueOptions(queue: "unlisted"))
        #expect(error?.message.contains("timed out after 2 s") == true, "\(String(describing: error))")
        try await waitUntil("the nap to be cut short") { cutShort.happened }
        await porter.close()
    }

    @Test func aJobsOwnTimeoutWinsOverItsQueues() async throws {
        let porter = try await client()
        let error = await napInline(porter, EnqueueOptions(queue: "reports", timeout: 2))
        #expect(error?.message.contains("timed out after 2 s") == true, "\(String(describing: error))")
        await porter.close()
    }

    @Test func aClientMadeInAJobKeepsItsQueuesForInlineRuns() async throws {
        let porter = try await client()
        var registry = porter.registry
        // A job that runs another inline, through its context's client.
        registry.register(Sum.self) { _, context in
            try await context.porter.enqueue(Nap(seconds: 10), options: EnqueueOptions(queue: "reports", now: true))
        }
        // The outer job's own queue allows 60 s, so only the inner run's 1 s can end it, however
        // slow a loaded machine makes the inner run's start.
        var queues = porter.queues
        queues["long"] = QueueConfiguration(timeout: 60)
        let outer = PorterClient(pool: porter.pool, registry: registry, queues: queues, logger: porter.logger)
        let error = await #expect(throws: PorterError.self) {
            try await outer.enqueue(Sum(numbers: []), options: EnqueueOptions(queue: "long", now: true))
        }
        #expect(error?.message.contains("timed out after 1 s") == true, "\(String(describing: error))")
        await porter.close()
    }

    @Test func aJobRunByAWorkerRunsInlineJobsWithTheWorkersQueues() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(Nap.self) { job, _ in try await Task.sleep(for: .seconds(job.seconds)) }
        registry.register(Sum.self) { _, context in
            try await context.porter.enqueue(Nap(seconds: 10), options: EnqueueOptions(queue: "reports", now: true))
        }
        // The client knows only the built-in queues; the worker is configured with `reports`.
        let porter = database.makeClient(registry: registry)
        let worker = RunningWorker(porter, fastConfiguration { $0.queues["reports"] = QueueConfiguration(timeout: 1) })
        let id = try #require(try await porter.enqueue(Sum(numbers: [])).id)
        let job = try await waitForJob(porter, id, .failed)
        #expect(job.error?.contains("test.nap failed: timed out after 1 s") == true, "\(job.error ?? "")")
        try await worker.shutdown()
        await porter.close()
    }
}

/// Whether a handler's work was cancelled before it was done.
final class CutShort: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var happened: Bool { lock.withLock { value } }
    func mark() { lock.withLock { value = true } }
}
