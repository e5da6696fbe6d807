import Foundation
import Hummingbird
import HummingbirdTesting
import Porter
import PorterPostgres
import PorterTesting
import Testing

@testable import porter_example_hummingbird

/// The Hummingbird example, driven over HTTP on a live port against a real PostgreSQL, with
/// its worker in its own ServiceGroup.
@Suite struct HummingbirdOrdersTests {
    static func app(_ database: TestDatabase) async throws -> some ApplicationProtocol {
        var configuration = OrdersConfiguration(databaseURL: database.connectionString, port: 0)
        configuration.stepDuration = .milliseconds(200)
        return try await buildApplication(configuration, logger: testLogger)
    }

    @Test func anOrderCommitsWithItsJobWhichTheAppsWorkerRunsWithLiveProgress() async throws {
        let database = try await TestDatabase.create(migrated: false)
        try await Self.app(database).test(.live) { client in
            let created = try await client.execute(
                uri: "/orders", method: .post, body: ByteBuffer(string: #"{"customer": "Scoop & Joy", "items": 3}"#))
            #expect(created.status == .created, "\(String(buffer: created.body))")
            let order = try JSONDecoder().decode(CreatedOrder.self, from: created.body)
            let jobID = try #require(order.job)

            // The stream starts with the job as it stands and ends with its end.
            let stream = try await client.execute(uri: "/orders/\(order.id)/events", method: .get)
            #expect(stream.status == .ok && stream.headers[.contentType] == "text/event-stream")
            let events = Self.events(String(buffer: stream.body))
            #expect(events.first?.event == "status", "\(events)")
            #expect(events.last?.event == "finished", "\(events)")
            let percents = events.filter { $0.event == "progress" }.compactMap { try? JSONDecoder().decode(JobView.Progress.self, from: Data($0.data.utf8)).percent }
            #expect(!percents.isEmpty && percents == percents.sorted() && percents.last == 100, "\(events)")

            let shown = try await client.execute(uri: "/orders/\(order.id)", method: .get)
            #expect(shown.status == .ok)
            let status = try JSONDecoder().decode(OrderStatus.self, from: shown.body)
            #expect(status.confirmed && status.job?.id == jobID && status.job?.status == "finished")
            #expect(status.job?.progress?.percent == 100)
            // A finished job's stream is its status alone.
            let ended = try await client.execute(uri: "/orders/\(order.id)/events", method: .get)
            #expect(Self.events(String(buffer: ended.body)).map(\.event) == ["status"])
        }
        let porter = database.makeClient()
        let job = try #require(try await porter.jobs().first)
        #expect(job.method == "orders.send_confirmation" && job.status == .finished && job.jobID == "confirm-1")
        #expect(try await porter.pool.query("SELECT count(*) FROM orders WHERE confirmed_at IS NOT NULL").single(Int.self) == 1)
        await porter.close()
    }

    @Test func aRefusedOrderLeavesNoRowAndNoJobAndUnknownOrdersAre404() async throws {
        let database = try await TestDatabase.create(migrated: false)
        try await Self.app(database).test(.live) { client in
            let refused = try await client.execute(uri: "/orders", method: .post, body: ByteBuffer(string: #"{"customer": "X", "items": 0}"#))
            #expect(refused.status == .badRequest)
            #expect(try await client.execute(uri: "/orders/41", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/orders/41/events", method: .get).status == .notFound)
        }
        let porter = database.makeClient()
        #expect(try await porter.pool.query("SELECT count(*) FROM orders").single(Int.self) == 0)
        #expect(try await porter.jobs().isEmpty)
        await porter.close()
    }

    /// The confirmation job on its own, tested as an app tests its jobs with PorterTesting: the
    /// order and its job committed together, the job found by its arguments, a worker run by
    /// the harness, and the order's row checked after.
    @Test func theConfirmationJobConfirmsItsOrderUnderPorterTestingsWorker() async throws {
        let database = try await TestDatabase.create()
        var configuration = OrdersConfiguration(databaseURL: database.connectionString, port: 0)
        configuration.stepDuration = .milliseconds(10)
        let porter = database.makeClient(registry: orderJobs(configuration, logger: testLogger))
        try await porter.pool.query(PQQuery(unsafeSQL: OrdersSchema.create.sql))
        let order = try await porter.pool.withTransaction { transaction in
            let id = try transaction.query("INSERT INTO orders (customer, items) VALUES ('Scoop & Joy', 2) RETURNING id").single(Int.self)
            try await porter.enqueue(SendConfirmation(orderID: id), options: EnqueueOptions(queue: "short"), on: transaction)
            return id
        }
        let job = try await porter.requireEnqueued(SendConfirmation.self, status: .queued) { $0.orderID == order }
        try await withWorker(porter, queues: ["short"]) { _ in
            let finished = try await porter.waitForJob(job.id, toBe: .finished)
            #expect(finished.result?.text == #"{"order": \#(order)}"#)
            #expect(finished.progress != nil)
        }
        #expect(try await porter.pool.query("SELECT confirmed_at IS NOT NULL FROM orders WHERE id = \(order)").single(Bool.self))
        await porter.close()
    }

    /// `event: NAME` / `data: ...` blocks of a server-sent event stream.
    static func events(_ text: String) -> [(event: String, data: String)] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var event: String?
            var data: [String] = []
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
            }
            return event.map { ($0, data.joined(separator: "\n")) }
        }
    }
}
