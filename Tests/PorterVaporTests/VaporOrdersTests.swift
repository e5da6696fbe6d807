import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing
import Vapor
import VaporTesting

@testable import porter_example_vapor

/// The Vapor example, driven over HTTP on a live port against a real PostgreSQL, with its
/// worker in the app's lifecycle.
@Suite struct VaporOrdersTests {
    static func post(_ json: String) -> (inout TestingHTTPRequest) throws -> Void {
        { request in
            request.headers.contentType = .json
            request.body = ByteBuffer(string: json)
        }
    }

    @Test func anOrderCommitsWithItsJobWhichTheAppsWorkerSends() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let porter = database.makeClient()
        try await withOrdersApp(database) { app in
            let http = try app.testing(method: .running(port: 0))
            let created = try await http.sendRequest(
                .POST, "orders", beforeRequest: Self.post(#"{"customer": "Scoop & Joy", "items": 3, "reference": "web-1"}"#))
            #expect(created.status == .created, "\(created.body.string)")
            let order = try created.content.decode(CreatedOrder.self)
            let jobID = try #require(order.job)
            let job = try await porter.requireEnqueued(SendConfirmation.self) { $0.orderID == order.id }
            #expect(job.id == jobID && job.record.jobID == "confirm-web-1" && job.record.queue == "short")

            let finished = try await porter.waitForJob(jobID, toBe: .finished)
            #expect(finished.result?.text == #"{"order": \#(order.id)}"#)
            let shown = try await http.sendRequest(.GET, "orders/\(order.id)")
            #expect(shown.status == .ok)
            let status = try shown.content.decode(Order.self)
            #expect(status.confirmedAt != nil && status.job == jobID)
        }
        #expect(try await porter.pool.query("SELECT count(*) FROM orders WHERE confirmed_at IS NOT NULL").single(Int.self) == 1)
        await porter.close()
    }

    /// The same reference twice: the second request's job is a duplicate (the first is still
    /// queued, with no worker), so the route refuses it and its transaction takes the new
    /// order row back with it.
    @Test func aSecondOrderWithTheSameReferenceIsADuplicateAndRollsBack() async throws {
        let database = try await TestDatabase.create(migrated: false)
        try await withOrdersApp(database, { $0.inProcessWorker = false }) { app in
            let http = try app.testing(method: .running(port: 0))
            let body = #"{"customer": "Scoop & Joy", "items": 2, "reference": "web-7"}"#
            let first = try await http.sendRequest(.POST, "orders", beforeRequest: Self.post(body))
            #expect(first.status == .created, "\(first.body.string)")
            let second = try await http.sendRequest(.POST, "orders", beforeRequest: Self.post(body))
            #expect(second.status == .conflict, "\(second.body.string)")
        }
        let porter = database.makeClient()
        #expect(try await porter.pool.query("SELECT count(*) FROM orders").single(Int.self) == 1)
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE job_id = 'confirm-web-7'").single(Int.self) == 1)
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs").single(Int.self) == 1)
        await porter.close()
    }

    @Test func aRefusedOrderLeavesNoRowAndNoJobAndUnknownOrdersAre404() async throws {
        let database = try await TestDatabase.create(migrated: false)
        try await withOrdersApp(database) { app in
            let http = try app.testing(method: .running(port: 0))
            let refused = try await http.sendRequest(.POST, "orders", beforeRequest: Self.post(#"{"customer": "X", "items": 0}"#))
            #expect(refused.status == .badRequest)
            #expect(try await http.sendRequest(.GET, "orders/41").status == .notFound)
        }
        let porter = database.makeClient()
        #expect(try await porter.pool.query("SELECT count(*) FROM orders").single(Int.self) == 0)
        #expect(try await porter.jobs().isEmpty)
        await porter.close()
    }

    /// Graceful shutdown of the app drains its worker: a confirmation in progress when the app
    /// is told to stop is finished, not left for another worker to rescue.
    @Test func shuttingTheAppDownLetsItsWorkerFinishTheJobItHolds() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let app = try await Application.make(.testing)
        app.logger.logLevel = .warning
        let porter = database.makeClient()
        let jobID: Int64
        do {
            try await configure(app, ordersConfiguration(database) { $0.sendDuration = .seconds(2) })
            try await app.asyncBoot()
            let http = try app.testing(method: .running(port: 0))
            let created = try await http.sendRequest(.POST, "orders", beforeRequest: Self.post(#"{"customer": "Scoop & Joy", "items": 1}"#))
            jobID = try #require(try created.content.decode(CreatedOrder.self).job)
            // Started (the worker holds it); a machine slow enough to miss the 2 s of work sees
            // it finished, which the checks below accept too.
            try await waitUntil(timeout: .seconds(30), "job \(jobID) to start") {
                let status = try await porter.job(id: jobID)?.status
                return status == .started || status == .finished
            }
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
        let job = try #require(try await porter.job(id: jobID))
        #expect(job.status == .finished && job.attempts == 1, "\(job.status), error: \(job.error ?? "none")")
        #expect(try await porter.pool.query("SELECT count(*) FROM orders WHERE confirmed_at IS NOT NULL").single(Int.self) == 1)
        await porter.close()
    }
}
