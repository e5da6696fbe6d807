import FluentKit
import FluentPostgresDriver
import Foundation
import Porter
import PorterFluent
import PorterPostgres
import PorterPostgresNIO
import PorterTesting
import Testing
import Vapor

@testable import porter_example_vapor

/// PorterFluent on a Fluent `Database` from Vapor's PostgreSQL driver: every enqueue runs on
/// the transaction's own connection, so it commits and rolls back with the app's rows.
@Suite struct FluentEnqueueTests {
    @Test func aJobEnqueuedInAFluentTransactionIsInvisibleUntilItCommitsWithTheRow() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let (order, result) = try await withOrdersApp(database, { $0.inProcessWorker = false }) { app in
            try await app.db.transaction { db in
                let order = Order(customer: "Scoop & Joy", items: 2, reference: nil)
                try await order.create(on: db)
                let result = try await db.enqueue(SendConfirmation(orderID: try order.requireID()), options: EnqueueOptions(queue: "short"))
                // Another connection does not see it yet: it is in this transaction.
                #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs").single(Int.self) == 0)
                return (try order.requireID(), result)
            }
        }
        let job = try await porter.requireEnqueued(SendConfirmation.self, status: .queued) { $0.orderID == order }
        #expect(result == .enqueued(id: job.id) && job.record.queue == "short")
        #expect(try await porter.pool.query("SELECT count(*) FROM orders WHERE id = \(order)").single(Int.self) == 1)
        await porter.close()
    }

    @Test func aThrowInTheFluentTransactionRollsBackTheRowAndEveryKindOfEnqueue() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let listener = RealtimeListener(client: porter)
        try await listener.start()
        let events = listener.events(named: "order_paid")
        struct Refused: Error {}
        let committed = try await withOrdersApp(database, { $0.inProcessWorker = false }) { app in
            await #expect(throws: Refused.self) {
                try await app.db.transaction { db in
                    try await Order(customer: "Gone", items: 1, reference: nil).create(on: db)
                    try await db.enqueue(SendConfirmation(orderID: 1))
                    try await db.enqueue(method: "orders.audit", args: PQJSON(text: #"{"order": 1}"#))
                    _ = try await db.enqueueMany([EnqueueRequest(method: "a"), EnqueueRequest(method: "b")])
                    try await db.enqueueDoc(doctype: "Outlet", name: "SJ-0001", method: "sync_stock")
                    try await db.publishRealtime(event: "order_paid", message: PQJSON(text: #"{"order": 1}"#))
                    throw Refused()
                }
            }
            return try await app.db.transaction { db in
                try await Order(customer: "Kept", items: 1, reference: nil).create(on: db)
                var results = [try await db.enqueue(SendConfirmation(orderID: 2))]
                results.append(try await db.enqueue(method: "orders.audit", args: PQJSON(text: #"{"order": 2}"#)))
                results += try await db.enqueueMany([SendConfirmation(orderID: 3), SendConfirmation(orderID: 4)], options: EnqueueOptions(queue: "short"))
                results.append(try await db.enqueueDoc(doctype: "Outlet", name: "SJ-0042", method: "sync_stock", options: EnqueueOptions(queue: "short")))
                try await db.publishRealtime(event: "order_paid", message: PQJSON(text: #"{"order": 2}"#))
                return results
            }
        }
        var received = events.makeAsyncIterator()
        #expect(try #require(await received.next()).message.text == #"{"order":2}"#)
        #expect(committed.allSatisfy { $0.id != nil } && committed.count == 5)
        #expect(try await porter.pool.query("SELECT customer FROM orders").map { try $0.decode(String.self, at: 0) } == ["Kept"])
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs").single(Int.self) == 5)
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE method = 'a'").single(Int.self) == 0)
        let documentID = try #require(committed[4].id)
        let document = try #require(try await porter.job(id: documentID))
        #expect(document.method == DocumentJob.method && document.queue == "short")
        listener.stop()
        await porter.close()
    }

    /// `deduplicate` with a job_id that an active job holds: `.duplicate`, nothing inserted, on
    /// `req.db` outside a transaction and inside one; refused options throw Porter's own
    /// error codes and SQLSTATEs.
    @Test func aSecondEnqueueWithTheSameJobIDIsADuplicateAndBadOptionsThrowPorterErrors() async throws {
        let database = try await TestDatabase.create()
        let options = EnqueueOptions(queue: "short", jobID: "confirm-7", deduplicate: true)
        try await withOrdersApp(database, { $0.inProcessWorker = false }) { app in
            let first = try await app.db.enqueue(SendConfirmation(orderID: 7), options: options)
            let second = try await app.db.transaction { db in
                try await db.enqueue(SendConfirmation(orderID: 7), options: options)
            }
            #expect(first.id != nil)
            #expect(second == .duplicate(jobID: "confirm-7"))
            let batch = try await app.db.enqueueMany([
                EnqueueRequest(method: "m", options: EnqueueOptions(jobID: "once", deduplicate: true)),
                EnqueueRequest(method: "m", options: EnqueueOptions(jobID: "once", deduplicate: true)),
            ])
            #expect(batch.first?.id != nil && batch.last == .duplicate(jobID: "once"))

            let noJobID = await #expect(throws: PorterError.self) {
                try await app.db.transaction { db in try await db.enqueue(method: "m", options: EnqueueOptions(deduplicate: true)) }
            }
            #expect(noJobID?.code == .invalidArgument(parameter: "job_id") && noJobID?.sqlState?.rawValue == "22023")
            let taken = await #expect(throws: PorterError.self) {
                try await app.db.enqueue(method: "m", options: EnqueueOptions(jobID: "confirm-7"))
            }
            #expect(taken?.code == .duplicateJob(jobID: "confirm-7") && taken?.sqlState?.rawValue == "23505")
            let now = await #expect(throws: PorterError.self) {
                try await app.db.enqueue(SendConfirmation(orderID: 8), options: EnqueueOptions(now: true))
            }
            #expect(now?.code == .invalidArgument(parameter: "now"))
        }
        let porter = database.makeClient()
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE job_id = 'confirm-7'").single(Int.self) == 1)
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs").single(Int.self) == 2)
        await porter.close()
    }

    /// A Fluent database PorterFluent cannot reach the connection of is refused before
    /// anything runs, with what to configure instead: a wrapper that is not a
    /// `PostgresDatabase`, and the driver's PostgresClient-backed configuration.
    @Test func aDatabaseThatIsNotAPostgresDatabaseIsRefusedWithTheFix() async throws {
        let database = try await TestDatabase.create()
        try await withOrdersApp(database, { $0.inProcessWorker = false }) { app in
            let clientBacked = DatabaseID(string: "client-backed")
            app.databases.use(
                .postgres(configuration: try PostgresClient.Configuration(database.configuration), logger: app.logger),
                as: clientBacked, isDefault: false)
            for db in [app.db.logging(to: app.logger), app.db(clientBacked)] {
                let refused = await #expect(throws: PorterError.self) { try await db.enqueue(SendConfirmation(orderID: 1)) }
                #expect(refused?.code == .invalidArgument(parameter: "database"))
                #expect(refused?.message.contains(".postgres(configuration: SQLPostgresConfiguration") == true, "\(String(describing: refused))")
            }
        }
        let porter = database.makeClient()
        #expect(try await porter.jobs().isEmpty)
        await porter.close()
    }
}
