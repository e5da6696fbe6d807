// A test of a job against a real PostgreSQL: a fresh migrated database, a worker in the
// test process (`withWorker`), expectations on what was enqueued, and a wait on the job's row
// rather than a sleep.
import Foundation
import Porter
import PorterTesting
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

    try await porter.enqueue(SendConfirmation(orderID: 7), options: EnqueueOptions(jobID: "confirm-7"))
    let enqueued = try await porter.requireEnqueued(SendConfirmation.self) { $0.orderID == 7 }
    #expect(enqueued.record.jobID == "confirm-7")

    try await withWorker(porter) { _ in
        let job = try await porter.waitForJob(enqueued.id, toBe: .finished)
        #expect(job.result?.text == #"{"order": 7}"#)
    }
    await porter.close()
}

@Test func aJobDueInAnHourRunsOnceTheHourHasPassed() async throws {
    let database = try await TestDatabase.create()
    var registry = JobRegistry()
    registry.register(SendConfirmation.self) { job, _ in ["order": job.orderID] }
    let porter = database.makeClient(registry: registry)
    // Written straight into porter.jobs, in the state the test needs: due in an hour.
    var fixture = try JobFixture(SendConfirmation(orderID: 8), status: .scheduled)
    fixture.runAt = Date(timeIntervalSinceNow: 3600)
    let id = try await porter.insertJob(fixture)
    try await porter.moveJobBack(id, by: .seconds(3600))  // the hour passes
    try await withWorker(porter) { _ in try await porter.waitForJob(id, toBe: .finished) }
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
    try await porter.requireNotEnqueued(SendConfirmation.self)
    await porter.close()
}
