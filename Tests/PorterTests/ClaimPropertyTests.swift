import Foundation
import PorterPostgres
import PorterTesting
import PropertyBased
import Testing

@testable import Porter

/// Whatever the limits, the jobs and the order of claims and ends, a claim of a limited queue
/// never passes a limit and never leaves a job waiting that no full limit holds back.
@Suite struct ClaimPropertyTests {
    /// One run: the limits, the jobs (a key index or none, and a priority), and what happens:
    /// a positive number claims that many, a negative one ends that many running jobs.
    struct Scenario: Sendable, CustomStringConvertible {
        var queueMax: Int?
        var eachMax: Int?
        var ownMax: [Int?]
        var fair: Bool
        var jobs: [(key: Int?, priority: Int)]
        var steps: [Int]

        var description: String {
            "queue \(queueMax.map(String.init) ?? "-") each \(eachMax.map(String.init) ?? "-") own \(ownMax) fair \(fair) "
                + "jobs \(jobs.map { "\($0.key.map(String.init) ?? "_")/\($0.priority)" }) steps \(steps)"
        }
    }

    static let keys = 4

    static let scenario = zip(
        zip(Gen.int(in: 1...6).optional(valueRate: 0.5), Gen.int(in: 1...3).optional(valueRate: 0.6),
            Gen.int(in: 1...3).optional(valueRate: 0.3).array(of: keys...keys), Gen.bool),
        zip(Gen.int(in: 0...keys).array(of: 0...24), Gen.int(in: 0...1).array(of: 24...24),
            Gen.int(in: -4...8).array(of: 1...12))
    ).map { limits, work in
        let (queueMax, eachMax, ownMax, fair) = limits
        let (keyIndexes, priorities, steps) = work
        let jobs = keyIndexes.enumerated().map { index, key in (key: key == keys ? nil : key, priority: priorities[index]) }
        return Scenario(queueMax: queueMax, eachMax: eachMax, ownMax: ownMax, fair: fair, jobs: jobs, steps: steps.filter { $0 != 0 })
    }

    @Test func aClaimNeverPassesALimitAndLeavesNoJobWaitingThatNoFullLimitHolds() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        var runs = 0
        var claimedSome = 0
        await propertyCheck(count: 150, input: Self.scenario) { scenario in
            runs += 1
            let queue = "p\(runs)"
            let limits = [QueueLimit(queue: queue, maxRunning: scenario.queueMax, fair: scenario.fair)]
                + [QueueLimit(queue: queue, eachKey: true, maxRunning: scenario.eachMax)]
                + scenario.ownMax.enumerated().map { QueueLimit(queue: queue, limitKey: "k\($0)", maxRunning: $1) }
            var set = 0
            for limit in limits where limit.maxRunning != nil || limit.fair {
                try await porter.setLimit(limit)
                set += 1
            }
            if set == 0 { try await porter.setLimit(QueueLimit(queue: queue, fair: true)) }
            if !scenario.jobs.isEmpty {
                _ = try await porter.enqueueMany(scenario.jobs.map {
                    EnqueueRequest(method: "m", options: EnqueueOptions(queue: queue, priority: $0.priority, limitKey: $0.key.map { "k\($0)" }))
                })
            }
            func limit(ofKey key: Int) -> Int? { scenario.ownMax[key] ?? scenario.eachMax }
            for step in scenario.steps {
                if step < 0 {
                    try await porter.pool.query("""
                        UPDATE porter.jobs SET status = 'finished', ended_at = now()
                        WHERE id IN (SELECT id FROM porter.jobs WHERE queue = \(queue) AND status = 'started' ORDER BY id LIMIT \(-step))
                        """)
                    continue
                }
                let claimed = try await porter.pool.query(
                    JobRunQueries.claimAvailable(queue: queue, limit: step, workerID: "w")).count
                claimedSome += claimed
                let rows = try await porter.pool.query("SELECT limit_key, status FROM porter.jobs WHERE queue = \(queue)")
                    .map { try $0.decode((String?, String).self) }
                let running = rows.filter { $0.1 == "started" }
                let waiting = rows.filter { $0.1 == "queued" }
                func runningOf(_ key: Int) -> Int { running.filter { $0.0 == "k\(key)" }.count }
                if let queueMax = scenario.queueMax {
                    #expect(running.count <= queueMax, "queue runs \(running.count) of \(queueMax): \(scenario)")
                }
                for key in 0..<Self.keys {
                    if let max = limit(ofKey: key) {
                        #expect(runningOf(key) <= max, "k\(key) runs \(runningOf(key)) of \(max): \(scenario)")
                    }
                }
                guard claimed < step else { continue }
                // Fewer than asked: every job still waiting is held back by a full limit.
                let queueFull = scenario.queueMax.map { running.count >= $0 } ?? false
                for (key, _) in waiting where !queueFull {
                    let index = key.flatMap { Int($0.dropFirst()) }
                    let held = index.flatMap { index in limit(ofKey: index).map { runningOf(index) >= $0 } } ?? false
                    #expect(held, "job of \(key ?? "no key") waits though no limit is full: \(scenario)")
                }
            }
        }
        #expect(claimedSome > 0)
        await porter.close()
    }
}
