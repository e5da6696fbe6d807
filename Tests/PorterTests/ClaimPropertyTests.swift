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

    /// A rate window: at most `max` claims in any `per` seconds.
    struct Rate: Sendable, CustomStringConvertible {
        var max: Int
        var per: Int
        var description: String { "\(max)/\(per)s" }
    }

    /// One run of `porter.rate_room_in`: the queue's own rate, each key's, the rows of keys
    /// k0 and k1 (a row without a rate replaces each key's rate with none), and the claims
    /// logged: a key index or none, and how many seconds ago, whole seconds and a half, so that
    /// no claim lies within half a second of a window's edge.
    struct RateScenario: Sendable, CustomStringConvertible {
        var queue: Rate?
        var each: Rate?
        var own: [Rate??]
        var starts: [(key: Int?, ago: Int)]

        var description: String {
            "queue \(queue.map(String.init(describing:)) ?? "-") each \(each.map(String.init(describing:)) ?? "-") "
                + "own \(own.map { $0.map { $0.map(String.init(describing:)) ?? "no rate" } ?? "-" }) "
                + "starts \(starts.map { "\($0.key.map { "k\($0)" } ?? "_")@-\($0.ago)s" })"
        }

        /// The seconds until the first full window frees a start, as the claim counts them:
        /// a window holds the claims of the last `per` seconds, and frees a start when its
        /// oldest ages out.
        var roomIn: Double? {
            func frees(_ rate: Rate, _ agos: [Int]) -> Double? {
                let inWindow = agos.filter { Double($0) + 0.5 < Double(rate.per) }
                guard inWindow.count >= rate.max, let oldest = inWindow.max() else { return nil }
                return Double(rate.per) - (Double(oldest) + 0.5)
            }
            var all: [Double] = []
            if let queue, let f = frees(queue, starts.map(\.ago)) { all.append(f) }
            for key in Set(starts.compactMap(\.key)) {
                let rate: Rate? = key < own.count ? (own[key] ?? each) : each
                if let rate, let f = frees(rate, starts.filter { $0.key == key }.map(\.ago)) { all.append(f) }
            }
            return all.min()
        }
    }

    static let rate = zip(Gen.int(in: 1...3), Gen.int(in: 5...40)).map { Rate(max: $0, per: $1) }
    static let rateScenario = zip(
        zip(rate.optional(valueRate: 0.4), rate.optional(valueRate: 0.6)),
        rate.optional(valueRate: 0.6).optional(valueRate: 0.4).array(of: 2...2),
        zip(Gen.int(in: 0...3), Gen.int(in: 0...45)).array(of: 0...12)
    ).map { rates, own, starts in
        RateScenario(
            queue: rates.0, each: rates.1, own: own,
            starts: starts.map { (key: $0.0 == 3 ? nil : $0.0, ago: $0.1) })
    }

    @Test func rateRoomInIsWhenTheFirstFullWindowFreesAStart() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let connection = try await database.connect()
        var runs = 0
        var said = 0
        await propertyCheck(count: 200, input: Self.rateScenario) { scenario in
            runs += 1
            let queue = "r\(runs)"
            if let rate = scenario.queue {
                try await porter.setLimit(QueueLimit(queue: queue, maxStarts: rate.max, perSeconds: Double(rate.per)))
            }
            if let rate = scenario.each {
                try await porter.setLimit(QueueLimit(queue: queue, eachKey: true, maxStarts: rate.max, perSeconds: Double(rate.per)))
            }
            for (key, row) in scenario.own.enumerated() {
                guard let row else { continue }
                try await porter.setLimit(QueueLimit(
                    queue: queue, limitKey: "k\(key)", maxRunning: row == nil ? 1 : nil,
                    maxStarts: row?.max, perSeconds: row.map { Double($0.per) }))
            }
            // In one transaction, every claim counts back from one moment, now(), and the time
            // from it to the function's own clock is measured: a loaded machine cannot move a
            // claim across a window's edge unless it takes half a second.
            let values = scenario.starts.map {
                "('\(queue)', \($0.key.map { "'k\($0)'" } ?? "NULL"), now() - make_interval(secs => \(Double($0.ago) + 0.5)))"
            }
            let (roomIn, elapsed) = try await connection.withTransaction { transaction in
                if !values.isEmpty {
                    try transaction.query(PQQuery(
                        unsafeSQL: "INSERT INTO porter.limit_starts (queue, limit_key, started_at) VALUES " + values.joined(separator: ", "),
                        binds: []))
                }
                let row = try transaction.query(
                    "SELECT porter.rate_room_in(\(queue)), date_part('epoch', clock_timestamp() - now())::float8"
                )[0]
                return (try row.decode(Double?.self, at: 0), try row.decode(Double.self, at: 1))
            }
            guard elapsed < 0.5 else { return }
            switch (roomIn, scenario.roomIn) {
            case (nil, nil):
                break
            case (let got?, let expected?):
                said += 1
                #expect(got <= expected + 0.001 && got >= expected - elapsed - 0.001, "\(got) s, expected \(expected) s less up to \(elapsed) s: \(scenario)")
            default:
                Issue.record("rate_room_in said \(roomIn.map(String.init(describing:)) ?? "nothing"), expected \(scenario.roomIn.map(String.init(describing:)) ?? "nothing"): \(scenario)")
            }
        }
        #expect(said > 20)
        await connection.close()
        await porter.close()
    }
}
