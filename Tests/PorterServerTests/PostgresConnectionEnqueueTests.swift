import Foundation
import Logging
import Porter
import PorterPostgres
import PorterPostgresNIO
import PorterTesting
import PostgresNIO
import ServiceLifecycle
import Testing

struct SendConfirmation: Job {
    static let method = "orders.send_confirmation"
    var orderID: Int
}

@Suite struct PostgresConnectionEnqueueTests {
    static let createOrders: PostgresQuery = "CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL)"

    @Test func aCommittedEnqueueIsVisibleAndWakesAnIdleWorker() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(SendConfirmation.self) { job, _ in ["order": job.orderID] }
        let porter = database.makeClient(registry: registry)
        // A worker that polls once a minute: only the commit's NOTIFY can wake it in time.
        // Polls every ten minutes: within the test, only the commit's NOTIFY wakes it.
        var configuration = WorkerConfiguration(pollInterval: .seconds(600))
        configuration.queues["short"]?.backgroundWorkers = 2
        let worker = Worker(client: porter, configuration: configuration, queues: ["short"], logger: testLogger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: worker)], logger: testLogger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // Idle: registered, listening (porter_cancel is LISTENed after porter_enqueue),
            // and its first claim, which found nothing, is done.
            try await waitUntil("the worker to listen") {
                try await porter.pool.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN \"porter_cancel\"'"
                ).single(Int.self) == 1
            }
            let (id, result) = try await withPostgresClient(database) { client in
                try await client.query(Self.createOrders, logger: testLogger)
                return try await client.withTransaction(logger: testLogger) { connection in
                    let rows = try await connection.query("INSERT INTO orders (customer) VALUES ('Scoop & Joy') RETURNING id", logger: testLogger)
                    let id = try await rows.collect()[0].decode(Int.self)
                    let result = try await connection.enqueue(
                        SendConfirmation(orderID: id),
                        options: EnqueueOptions(queue: "short", jobID: "confirm-\(id)", deduplicate: true), logger: testLogger)
                    return (id, result)
                }
            }
            let jobID = try #require(result.id, "\(result)")
            try await waitUntil(timeout: .seconds(120), "the worker, woken by the commit's NOTIFY, to finish the job") {
                try await porter.job(id: jobID)?.status == .finished
            }
            let job = try #require(try await porter.job(id: jobID))
            #expect(job.method == SendConfirmation.method && job.queue == "short" && job.jobID == "confirm-\(id)")
            #expect(try job.args.decode(SendConfirmation.self).orderID == id)
            #expect(job.result?.text == #"{"order": \#(id)}"#)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await porter.close()
    }

    @Test func limitKeyAndDebounceGoThroughTheSameFunctionOnPostgresNIO() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let options = EnqueueOptions(jobID: "reindex:9", limitKey: "tenant:9", debounce: .seconds(5), debounceMax: .seconds(60))
        let (first, second, many) = try await withPostgresClient(database) { client in
            try await client.withConnection { connection in
                let first = try await connection.enqueue(method: "search.reindex", options: options, logger: testLogger)
                let second = try await connection.enqueue(method: "search.reindex", args: PQJSON(text: #"{"n": 2}"#), options: options, logger: testLogger)
                let many = try await connection.enqueueMany(
                    [EnqueueRequest(method: "shop.sync", options: EnqueueOptions(limitKey: "tenant:3"))], logger: testLogger)
                return (first, second, many)
            }
        }
        #expect(first.id != nil && first.id == second.id)
        let keys = try await porter.pool.query("SELECT limit_key FROM porter.jobs ORDER BY id").map { try $0.decode(String.self, at: 0) }
        #expect(keys == ["tenant:9", "tenant:3"])
        #expect(many.first?.id != nil)
        #expect(try await porter.pool.query("SELECT args->>'n' FROM porter.jobs WHERE id = \(first.id ?? 0)").single(String.self) == "2")
    }

    @Test func aRolledBackTransactionLeavesNeitherTheRowNorTheJob() async throws {
        let database = try await TestDatabase.create()
        struct PaymentDeclined: Error {}
        try await withPostgresClient(database) { client in
            try await client.query(Self.createOrders, logger: testLogger)
            await #expect(throws: PostgresTransactionError.self) {
                try await client.withTransaction(logger: testLogger) { connection in
                    try await connection.query("INSERT INTO orders (customer) VALUES ('Declined Ltd')", logger: testLogger)
                    let result = try await connection.enqueue(SendConfirmation(orderID: 1), logger: testLogger)
                    #expect(result.id != nil)
                    throw PaymentDeclined()
                }
            }
        }
        let porter = database.makeClient()
        #expect(try await porter.pool.query("SELECT count(*) FROM orders").single(Int.self) == 0)
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs").single(Int.self) == 0)
        await porter.close()
    }

    @Test func deduplicateReportsTheActiveJobAndInsertsNothing() async throws {
        let database = try await TestDatabase.create()
        let options = EnqueueOptions(queue: "short", jobID: "confirm-7", deduplicate: true)
        let (first, second, batch) = try await withPostgresClient(database) { client in
            let first = try await client.withTransaction(logger: testLogger) {
                try await $0.enqueue(SendConfirmation(orderID: 7), options: options, logger: testLogger)
            }
            let second = try await client.withTransaction(logger: testLogger) {
                try await $0.enqueue(SendConfirmation(orderID: 7), options: options, logger: testLogger)
            }
            // Within one batch too.
            let batch = try await client.withConnection {
                try await $0.enqueueMany(
                    [EnqueueRequest(method: "m", options: EnqueueOptions(jobID: "once", deduplicate: true)),
                     EnqueueRequest(method: "m", options: EnqueueOptions(jobID: "once", deduplicate: true))],
                    logger: testLogger)
            }
            return (first, second, batch)
        }
        #expect(first.id != nil)
        #expect(second == .duplicate(jobID: "confirm-7"))
        #expect(batch.first?.id != nil && batch.last == .duplicate(jobID: "once"))
        let porter = database.makeClient()
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE job_id = 'confirm-7'").single(Int.self) == 1)
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE job_id = 'once'").single(Int.self) == 1)
        await porter.close()
    }

    /// Each way an enqueue is refused, through Porter's own path and through postgres-nio:
    /// the same code, the same SQLSTATE, the same message.
    @Test func eachRefusedEnqueueThrowsThePorterErrorOfPorterOwnPath() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        _ = try await porter.enqueue(method: "m", options: EnqueueOptions(jobID: "taken"))
        let refused: [(EnqueueRequest, PorterError.Code, String)] = [
            (EnqueueRequest(method: ""), .invalidArgument(parameter: "method"), "22023"),
            (EnqueueRequest(method: "m", options: EnqueueOptions(queue: " ")), .invalidArgument(parameter: "queue"), "22023"),
            (EnqueueRequest(method: "m", args: PQJSON(text: "[1]")), .invalidArgument(parameter: "args"), "22023"),
            (EnqueueRequest(method: "m", args: PQJSON(text: #"{"blob": "\#(String(repeating: "x", count: 1_100_000))"}"#)),
             .invalidArgument(parameter: "args"), "54000"),
            (EnqueueRequest(method: "m", options: EnqueueOptions(timeout: 0)), .invalidArgument(parameter: "timeout"), "22023"),
            (EnqueueRequest(method: "m", options: EnqueueOptions(maxAttempts: 0)), .invalidArgument(parameter: "max_attempts"), "22023"),
            (EnqueueRequest(method: "m", options: EnqueueOptions(deduplicate: true)), .invalidArgument(parameter: "job_id"), "22023"),
            (EnqueueRequest(method: "m", options: EnqueueOptions(dependsOn: [999_999])), .invalidArgument(parameter: "depends_on"), "22023"),
            (EnqueueRequest(method: "m", options: EnqueueOptions(jobID: "taken")), .duplicateJob(jobID: "taken"), "23505"),
        ]
        try await withPostgresClient(database) { client in
            for (request, code, sqlState) in refused {
                let own = await #expect(throws: PorterError.self) { try await porter.enqueue(request) }
                let nio = await #expect(throws: PorterError.self) {
                    do {
                        _ = try await client.withTransaction(logger: testLogger) { try await $0.enqueue(request, logger: testLogger) }
                    } catch {
                        throw closureError(error)
                    }
                }
                #expect(own?.code == code, "\(code): Porter's own path threw \(String(describing: own))")
                #expect(nio?.code == code, "\(code): postgres-nio threw \(String(describing: nio))")
                #expect(nio?.sqlState?.rawValue == sqlState && own?.sqlState?.rawValue == sqlState, "\(code)")
                #expect(nio?.description == own?.description, "\(code)")
                // A batch reports the same code.
                let batch = await #expect(throws: PorterError.self) {
                    try await client.withConnection { try await $0.enqueueMany([request], logger: testLogger) }
                }
                if case .duplicateJob = code {
                    #expect(batch?.sqlState == .uniqueViolation)
                } else {
                    #expect(batch?.code == code, "enqueueMany: \(code)")
                }
            }
        }
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs").single(Int.self) == 1)
        await porter.close()
    }

    @Test func anUnmigratedDatabaseAndANowRunAreRefusedWithTheFix() async throws {
        let database = try await TestDatabase.create(migrated: false)
        try await withPostgresClient(database) { client in
            let missing = await #expect(throws: PorterError.self) {
                try await client.withConnection { try await $0.enqueue(SendConfirmation(orderID: 1), logger: testLogger) }
            }
            #expect(missing?.code == .schemaMissing)
            #expect(missing?.message.contains("run `porter migrate`") == true, "\(String(describing: missing))")
            let now = await #expect(throws: PorterError.self) {
                try await client.withConnection {
                    try await $0.enqueue(SendConfirmation(orderID: 1), options: EnqueueOptions(now: true), logger: testLogger)
                }
            }
            #expect(now?.code == .invalidArgument(parameter: "now"))
        }
    }

    @Test func enqueueDocAndPublishRealtimeRunPorterSQLFunctionsInTheTransaction() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let listener = RealtimeListener(client: porter)
        try await listener.start()
        let events = listener.events(named: "order_paid")
        let result = try await withPostgresClient(database) { client in
            // Rolled back: no event is ever delivered, and no job exists.
            _ = try? await client.withTransaction(logger: testLogger) { connection in
                try await connection.publishRealtime(event: "order_paid", message: PQJSON(text: #"{"order": 1}"#), logger: testLogger)
                try await connection.enqueueDoc(doctype: "Outlet", name: "SJ-0001", method: "sync_stock", logger: testLogger)
                throw CancellationError()
            }
            return try await client.withTransaction(logger: testLogger) { connection in
                try await connection.publishRealtime(event: "order_paid", message: PQJSON(text: #"{"order": 2}"#), job: nil, logger: testLogger)
                return try await connection.enqueueDoc(
                    doctype: "Outlet", name: "SJ-0042", method: "sync_stock", args: PQJSON(text: #"{"force": true}"#),
                    options: EnqueueOptions(queue: "short"), logger: testLogger)
            }
        }
        var received = events.makeAsyncIterator()
        let event = try #require(await received.next())
        #expect(event.message.text == #"{"order":2}"#)
        let id = try #require(result.id)
        let job = try #require(try await porter.job(id: id))
        #expect(job.method == DocumentJob.method && job.queue == "short")
        let args = try JSONSerialization.jsonObject(with: Data(job.args.text.utf8)) as? [String: Any]
        #expect(args?["doctype"] as? String == "Outlet" && args?["name"] as? String == "SJ-0042")
        #expect(args?["doc_method"] as? String == "sync_stock" && (args?["kwargs"] as? [String: Any])?["force"] as? Bool == true)
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs").single(Int.self) == 1)
        listener.stop()
        await porter.close()
    }

    @Test func otherDatabaseErrorsStayPostgresNIOs() async throws {
        let database = try await TestDatabase.create()
        try await withPostgresClient(database) { client in
            let error = await #expect(throws: (any Error).self) {
                try await client.withTransaction(logger: testLogger) { connection in
                    _ = try? await connection.query("SELECT 1/0", logger: testLogger)
                    // 25P02, the transaction is aborted: no error of Porter's own.
                    try await connection.enqueue(method: "m", logger: testLogger)
                }
            }
            let psqlError = error.map(closureError) as? PSQLError
            #expect(psqlError?.serverInfo?[.sqlState] == "25P02", "\(String(describing: error))")
        }
    }
}
