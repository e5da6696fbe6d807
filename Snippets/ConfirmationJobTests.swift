// A test of a job against a real PostgreSQL: a fresh migrated database, a worker in the
// test process, and a wait on the job's row rather than a sleep.
import Porter
import PorterTesting
import ServiceLifecycle
import Testing

struct SendConfirmation: Job {
    static let method = "orders.send_confirmation"
    var orderID: Int
}

@Test func aConfirmationJobFinishesWithTheOrderInItsResult() async throws {
    let database = try await TestDatabase.create()
    var registry = JobRegistry()
    registry.register(SendConfirmation.self) { job, _ in ["order": job.orderID] }
    let porter = database.makeClient(registry: registry)
    let worker = Worker(client: porter, configuration: WorkerConfiguration(pollInterval: .milliseconds(100)))
    let group = ServiceGroup(services: [worker], logger: porter.logger)
    async let running: Void = group.run()

    let id = try #require(try await porter.enqueue(SendConfirmation(orderID: 7)).id)
    try await waitUntil("job \(id) to finish") { try await porter.job(id: id)?.status == .finished }
    #expect(try await porter.job(id: id)?.result?.text == #"{"order": 7}"#)

    await group.triggerGracefulShutdown()
    try await running
    await porter.close()
}

@Test func nowRunsTheHandlerInTheTestWithoutAWorker() async throws {
    let database = try await TestDatabase.create()
    var registry = JobRegistry()
    registry.register(SendConfirmation.self) { job, _ in ["order": job.orderID] }
    let porter = database.makeClient(registry: registry)
    let result = try await porter.enqueue(SendConfirmation(orderID: 7), options: EnqueueOptions(now: true))
    guard case .ranInline(let value) = result else { Issue.record("expected an inline run"); return }
    #expect(value?.text == #"{"order":7}"#)
    await porter.close()
}
