import Logging
import Porter
import ServiceLifecycle

/// A real `Worker` running in the test process inside a `ServiceGroup`, as an app runs it.
///
/// ```swift
/// try await withWorker(porter) { worker in
///     let id = try #require(try await porter.enqueue(SendConfirmation(orderID: 7)).id)
///     let job = try await porter.waitForJob(id, toBe: .finished)
///     #expect(job.result?.text == #"{"order": 7}"#)
/// }
/// ```
public struct TestWorker: Sendable {
    /// The worker's id, as `porter.workers` and `porter.jobs.worker_id` show it.
    public let id: String
    /// The client it runs on.
    public let porter: PorterClient
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    /// Starts a worker on `porter` for `queues` (every configured queue when nil), logging at
    /// `logLevel` (warnings by default, so a test's output shows only what went wrong).
    public init(
        _ porter: PorterClient, configuration: WorkerConfiguration = .forTests(), queues: [String]? = nil,
        logLevel: Logger.Level = .warning
    ) {
        var logger = Logger(label: "porter.test.worker")
        logger.logLevel = logLevel
        let worker = Worker(client: porter, configuration: configuration, queues: queues, logger: logger)
        self.id = worker.id
        self.porter = porter
        let group = ServiceGroup(configuration: .init(services: [.init(service: worker)], logger: logger))
        self.group = group
        self.task = Task { try await group.run() }
    }

    /// Graceful shutdown, as on SIGTERM: the worker finishes what it holds and takes no more.
    /// Returns when it has exited; throws what the worker threw (a refused schema, say).
    public func shutdown() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

/// Runs `body` with a real worker on `porter`, then shuts the worker down gracefully, also when
/// `body` throws. The worker's own error, if it stopped with one, is thrown after `body`'s
/// result.
public func withWorker<T: Sendable>(
    _ porter: PorterClient, configuration: WorkerConfiguration = .forTests(), queues: [String]? = nil,
    _ body: (TestWorker) async throws -> T
) async throws -> T {
    let worker = TestWorker(porter, configuration: configuration, queues: queues)
    let value: T
    do {
        value = try await body(worker)
    } catch {
        try? await worker.shutdown()
        throw error
    }
    try await worker.shutdown()
    return value
}
