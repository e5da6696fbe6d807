import ArgumentParser
import Foundation
import Logging
import Porter
import PorterCLI
import PorterPostgres

/// `porter demo orders`: the transactional enqueue on its own. Enqueues a job in the same
/// transaction as a business row, and shows that a rollback leaves neither, that workers are
/// woken only at commit, and that a deduplicated enqueue queues nothing twice.
struct OrdersDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orders",
        abstract: "Enqueue in the same transaction as an order: commit, rollback and dedup.")

    @OptionGroup var connection: ConnectionOptions

    struct SendConfirmation: Job {
        static let method = "orders.send_confirmation"
        var orderID: Int
    }

    func run() async throws {
        let session = try DatabaseSession.start(connection)
        defer { session.stop() }
        var logger = Logger(label: "porter.demo")
        logger.logLevel = .warning
        let porter = PorterClient(pool: PQPool(session.configuration, maximumConnections: 4, logger: logger), logger: logger)

        let applied = try await porter.migrate()
        print("\n1. Migrated: \(applied.isEmpty ? "schema already up to date" : applied.map { String(format: "%04d_%@", $0.version, $0.name) }.joined(separator: ", "))")

        try await porter.pool.query("""
            CREATE TABLE IF NOT EXISTS demo_orders (
                id serial PRIMARY KEY, customer text NOT NULL, total numeric(10,2) NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now())
            """)

        let listener = PQListener(session.configuration, logger: logger)
        defer { listener.stop() }
        try await listener.listen(PorterChannel.enqueue)
        var wakeUps = listener.notifications(channel: PorterChannel.enqueue).makeAsyncIterator()

        // 2. A business row and its job, in one transaction.
        print("\n2. In one transaction: insert an order and enqueue its confirmation job")
        let observer = try await PQConnection.connect(session.configuration, logger: logger)
        let (orderID, enqueued) = try await porter.pool.withTransaction { transaction in
            let orderID = try transaction.query(
                "INSERT INTO demo_orders (customer, total) VALUES (\("Scoop & Joy, Kochi"), \(1250.50)::numeric) RETURNING id"
            ).single(Int.self)
            let result = try await porter.enqueue(
                SendConfirmation(orderID: orderID),
                options: EnqueueOptions(queue: "short", jobID: "order-confirmation-\(orderID)", deduplicate: true),
                on: transaction)
            let visible = try await observer.query("SELECT count(*) FROM porter.jobs").single(Int.self)
            print("   before COMMIT, another session sees \(visible) jobs")
            return (orderID, result)
        }
        guard case .enqueued(let jobID) = enqueued else {
            throw CommandFailure(message: "the demo expected a new job, got \(enqueued)")
        }
        let wakeUp = await wakeUps.next()
        print("   after COMMIT: workers woken on porter_enqueue for queue '\(wakeUp?.payload ?? "?")'")
        let order = try require(try await porter.pool.query("SELECT id, customer, total::text FROM demo_orders WHERE id = \(orderID)").first)
        print("   order  #\(try order.decode(Int.self, at: 0)): \(try order.decode(String.self, at: 1)), total \(try order.decode(String.self, at: 2))")
        let job = try require(try await porter.job(id: jobID))
        print("   job    #\(job.id): \(job.method) \(job.args.text) queue=\(job.queue) status=\(job.status.rawValue) job_id=\(job.jobID ?? "")")

        // 3. Dedup: the same work while the first job is still queued.
        print("\n3. Enqueue the same confirmation again (deduplicate, same job_id)")
        let again = try await porter.enqueue(
            SendConfirmation(orderID: orderID),
            options: EnqueueOptions(queue: "short", jobID: "order-confirmation-\(orderID)", deduplicate: true))
        print("   result: \(again.isDuplicate ? "duplicate of the active job, nothing queued" : "\(again)")")

        // 4. A rollback takes the job with it.
        print("\n4. In one transaction that rolls back: insert an order and enqueue its job")
        struct PaymentDeclined: Error {}
        do {
            try await porter.pool.withTransaction { transaction in
                let orderID = try transaction.query(
                    "INSERT INTO demo_orders (customer, total) VALUES (\("Declined Card Ltd"), \(99.0)::numeric) RETURNING id"
                ).single(Int.self)
                try await porter.enqueue(SendConfirmation(orderID: orderID), on: transaction)
                throw PaymentDeclined()
            }
        } catch is PaymentDeclined {
            print("   rolled back")
        }
        try await observer.query("SELECT pg_notify('porter_enqueue', 'marker')")
        let next = await wakeUps.next()
        print("   next wake-up is the marker sent after the rollback: \(next?.payload == "marker" ? "yes, none from the rolled-back job" : "NO (\(next?.payload ?? ""))")")

        let orders = try await porter.pool.query("SELECT count(*) FROM demo_orders").single(Int.self)
        let jobs = try await porter.jobs()
        print("\n5. Now in the database: \(orders) order(s), \(jobs.count) job(s)")
        print(JobFormatting.table(jobs).split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))
        await observer.close()
        await porter.close()
        guard orders == 1, jobs.count == 1, next?.payload == "marker", again.isDuplicate else {
            throw CommandFailure(message: "the demo did not end as expected")
        }
        print("\nDone: the job committed with its order, the rolled-back order left no job, and the duplicate queued nothing.")
    }
}

/// Unwraps a value the demo cannot go on without.
func require<T>(_ value: T?, _ what: String = "a row") throws -> T {
    guard let value else { throw CommandFailure(message: "the demo expected \(what)") }
    return value
}
