import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// PorterTesting's harness, factory and expectations, used as an app's tests use them.
@Suite struct PorterTestingTests {
    static func client(_ database: TestDatabase, runs: Counter? = nil) -> PorterClient {
        var registry = JobRegistry()
        registry.register(GenerateReport.self) { job, _ in
            runs?.increment()
            return ["group": job.outletGroup ?? "all"]
        }
        return database.makeClient(registry: registry)
    }

    @Test func requireEnqueuedFindsTheOneMatchingJobAndSaysWhatWasThereWhenNone() async throws {
        let database = try await TestDatabase.create()
        let porter = Self.client(database)
        try await porter.enqueue(GenerateReport(outletGroup: "north"))
        try await porter.enqueue(GenerateReport(outletGroup: "south"), options: EnqueueOptions(queue: "long"))
        let south = try await porter.requireEnqueued(GenerateReport.self) { $0.outletGroup == "south" }
        #expect(south.record.queue == "long" && south.job.outletGroup == "south")
        #expect(try await porter.enqueuedJobs(GenerateReport.self).count == 2)
        // None matching, and two matching, are failures that list what was enqueued.
        let none = await #expect(throws: ExpectationFailed.self) {
            try await porter.requireEnqueued(GenerateReport.self) { $0.outletGroup == "east" }
        }
        #expect(none?.description.contains("found 0") == true && none?.description.contains("north") == true)
        await #expect(throws: ExpectationFailed.self) { try await porter.requireEnqueued(GenerateReport.self) }
        await #expect(throws: ExpectationFailed.self) { try await porter.requireNotEnqueued(GenerateReport.self) }
        try await porter.requireNotEnqueued(GenerateReport.self) { $0.outletGroup == "east" }
        await porter.close()
    }

    @Test func aFixtureInEveryStatusIsARowTheTableAccepts() async throws {
        let database = try await TestDatabase.create()
        let porter = Self.client(database)
        let parent = try await porter.insertJob(JobFixture(method: "reports.generate"))
        for status in JobStatus.allCases {
            var fixture = try JobFixture(GenerateReport(outletGroup: "x"), status: status)
            if status == .deferred { fixture.dependsOn = [parent] }
            let id = try await porter.insertJob(fixture)
            let job = try #require(try await porter.job(id: id))
            #expect(job.status == status)
            #expect((job.endedAt != nil) == status.isEnded)
            #expect((job.startedAt != nil) == (status == .started || status.isEnded))
        }
        await porter.close()
    }

    @Test func aJobMovedPastItsRunAtRunsUnderTheHarnessAndTheWorkerStopsAfterward() async throws {
        let database = try await TestDatabase.create()
        let runs = Counter()
        let porter = Self.client(database, runs: runs)
        var fixture = try JobFixture(GenerateReport(outletGroup: "west"), status: .scheduled)
        fixture.runAt = Date(timeIntervalSinceNow: 3600)
        let id = try await porter.insertJob(fixture)
        let finished = try await withWorker(porter) { worker in
            // Not due: a claim leaves it alone.
            #expect(try await porter.jobStatus(id: id) == .scheduled)
            try await porter.moveJobBack(id, by: .seconds(3600))
            return try await porter.waitForJob(id, toBe: .finished)
        }
        #expect(finished.result?.text == #"{"group": "west"}"#)
        #expect(runs.value == 1)
        // The harness shut its worker down: it deregistered.
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.workers").single(Int.self) == 0)
        await porter.close()
    }

    @Test func withWorkerShutsTheWorkerDownWhenTheBodyThrows() async throws {
        let database = try await TestDatabase.create()
        let porter = Self.client(database)
        struct Stop: Error {}
        await #expect(throws: Stop.self) {
            try await withWorker(porter) { _ in
                try await waitUntil("the worker to register") {
                    try await porter.pool.query("SELECT count(*) FROM porter.workers").single(Int.self) == 1
                }
                throw Stop()
            }
        }
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.workers").single(Int.self) == 0)
        await porter.close()
    }

    @Test func waitForJobSaysWhereTheJobStandsWhenItTimesOut() async throws {
        let database = try await TestDatabase.create()
        let porter = Self.client(database)
        let id = try await porter.insertJob(JobFixture(method: "reports.generate", status: .failed))
        let failure = await #expect(throws: ExpectationFailed.self) {
            try await porter.waitForJob(id, toBe: .finished, timeout: .milliseconds(100))
        }
        #expect(failure?.description.contains("it is failed") == true, "\(String(describing: failure))")
        await porter.close()
    }
}

/// A count shared with a handler.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
