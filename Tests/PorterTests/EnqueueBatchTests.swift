import Foundation
import Porter
import PorterPostgres
import PorterTesting
import PropertyBased
import Testing

/// porter.enqueue_batch (migration 0032), which the typed `enqueueMany` of every Swift path
/// runs: many jobs of one method with shared options, their arguments as one JSON array. It
/// must make exactly the rows, and refuse exactly the batches, that porter.enqueue called once
/// per job would.
@Suite struct EnqueueBatchTests {
    /// Swift writes porter.enqueue_batch's arguments by position from porter.enqueue's list.
    @Test func porterEnqueueBatchTakesPorterEnqueuesParametersInTheSameOrder() async throws {
        let database = try await TestDatabase.create()
        let connection = try await database.connect()
        let names = try await connection.query("""
            SELECT proargnames::text[] FROM pg_catalog.pg_proc
            WHERE proname = 'enqueue_batch' AND pronamespace = 'porter'::regnamespace
            """).map { try $0.decode([String].self, at: 0) }
        #expect(names == [JobQueries.enqueueParameters + ["ord", "id"]])
        await connection.close()
    }

    @Test func typedEnqueueManyWritesOneRowPerJobInOrderWithTheSharedOptions() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let options = EnqueueOptions(
            queue: "long", timeout: 42, atFront: true, delay: .seconds(3600), priority: 7, maxAttempts: 2, limitKey: "tenant:9")
        let results = try await porter.enqueueMany(["a", "b", "c"].map { GenerateReport(outletGroup: $0) }, options: options)
        let ids = results.compactMap(\.id)
        #expect(ids.count == 3)
        #expect(ids == ids.sorted(), "ids follow the jobs' order: \(ids)")
        let connection = try await database.connect()
        let rows = try await connection.query("""
            SELECT args->>'outletGroup', method, queue, status, timeout, at_front, priority, max_attempts, limit_key,
                   run_at > now() + interval '3590 seconds'
            FROM porter.jobs WHERE id = ANY(\(ids)) ORDER BY id
            """).map { try $0.decode((String, String, String, String, Int, Bool, Int, Int, String, Bool).self) }
        #expect(rows.map(\.0) == ["a", "b", "c"])
        for row in rows {
            #expect(row.1 == "reports.generate" && row.2 == "long" && row.3 == "scheduled")
            #expect(row.4 == 42 && row.5 && row.6 == 7 && row.7 == 2 && row.8 == "tenant:9" && row.9, "\(row)")
        }
        #expect(try await porter.enqueueMany([GenerateReport]()) == [])
        await connection.close()
        await porter.close()
    }

    /// A shared job_id makes the first job and deduplicates the rest, or, without
    /// `deduplicate`, refuses the batch as a duplicate and inserts nothing: porter.enqueue's
    /// rules, row by row.
    @Test func aBatchWithAJobIDDeduplicatesWithinItselfAsSingleEnqueuesDo() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let jobs = [GenerateReport(outletGroup: "a"), GenerateReport(outletGroup: "b")]
        let results = try await porter.enqueueMany(jobs, options: EnqueueOptions(jobID: "nightly", deduplicate: true))
        #expect(results.count == 2)
        #expect(results[0].id != nil)
        #expect(results[1] == .duplicate(jobID: "nightly"))
        let error = try await #require(throws: PorterError.self) {
            try await porter.enqueueMany(jobs, options: EnqueueOptions(jobID: "weekly"))
        }
        #expect(error.code == .duplicateJob(jobID: "weekly"))
        #expect(try await jobCount(database) == 1)
        await porter.close()
    }

    @Test func aBatchThatDependsOnAnActiveParentWaitsForIt() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let parent = try #require(try await porter.enqueue(GenerateReport(outletGroup: "parent")).id)
        let ids = try await porter.enqueueMany(
            [GenerateReport(outletGroup: "x"), GenerateReport(outletGroup: "y")], options: EnqueueOptions(dependsOn: [parent])
        ).compactMap(\.id)
        #expect(ids.count == 2)
        #expect(try await jobCount(database, where: "status = 'deferred' AND depends_on = '{\(parent)}'") == 2)
        await porter.close()
    }

    /// Untyped requests that share their method and options take porter.enqueue_batch too:
    /// a duplicate names the shared job_id, which porter.enqueue_many's error could not.
    /// Requests whose arguments are JSON `null` still go to porter.enqueue_many, which stores
    /// them as `{}`, as it always has.
    @Test func requestsThatShareMethodAndOptionsGoAsOneBatch() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let shared = EnqueueOptions(queue: "short", priority: 3)
        let requests = (0..<4).map { EnqueueRequest(method: "app.sync", args: PQJSON(text: #"{"n": \#($0)}"#), options: shared) }
        let ids = try await porter.enqueueMany(requests).compactMap(\.id)
        #expect(ids.count == 4 && ids == ids.sorted())
        #expect(try await jobCount(database, where: "method = 'app.sync' AND queue = 'short' AND priority = 3") == 4)
        let keyed = EnqueueOptions(jobID: "nightly")
        let error = try await #require(throws: PorterError.self) {
            try await porter.enqueueMany([EnqueueRequest(method: "app.sync", options: keyed), EnqueueRequest(method: "app.sync", options: keyed)])
        }
        #expect(error.code == .duplicateJob(jobID: "nightly"))
        let null = try await porter.enqueueMany([EnqueueRequest(method: "app.null", args: PQJSON(text: "null"))])
        let connection = try await database.connect()
        #expect(try await connection.query("SELECT args::text FROM porter.jobs WHERE id = \(try #require(null[0].id))").single(String.self) == "{}")
        #expect(try await jobCount(database) == 5)
        await connection.close()
        await porter.close()
    }

    /// What an SQL caller can get wrong gets an error that names the parameter, with a
    /// SQLSTATE, and leaves no row.
    @Test func badArgumentsFromSQLAreRefusedWithTheirParameterAndNoRow() async throws {
        let database = try await TestDatabase.create()
        let connection = try await database.connect()
        let cases: [(String, String, String)] = [
            (#"SELECT * FROM porter.enqueue_batch('m', '{"a": 1}')"#, "22023", "args"),
            ("SELECT * FROM porter.enqueue_batch('m', NULL)", "22004", "args"),
            (#"SELECT * FROM porter.enqueue_batch('m', '[{}, [1], {}]')"#, "22023", "args"),
            (#"SELECT * FROM porter.enqueue_batch('m', '[{}, null]')"#, "22023", "args"),
            (#"SELECT * FROM porter.enqueue_batch('', '[{}]')"#, "22023", "method"),
            (#"SELECT * FROM porter.enqueue_batch('m', '[{}]', queue => NULL)"#, "22004", "queue"),
            (#"SELECT * FROM porter.enqueue_batch('m', '[{}]', timeout => 0)"#, "22023", "timeout"),
            (#"SELECT * FROM porter.enqueue_batch('m', '[{}]', deduplicate => true)"#, "22023", "job_id"),
            (#"SELECT * FROM porter.enqueue_batch('m', '[{}]', limit_key => ' ')"#, "22023", "limit_key"),
            (#"SELECT * FROM porter.enqueue_batch('m', '[{}]', traceparent => 'nonsense')"#, "22023", "traceparent"),
            (#"SELECT * FROM porter.enqueue_batch('m', '[{}]', run_at => 'infinity')"#, "22023", "run_at"),
        ]
        for (sql, state, column) in cases {
            do {
                try await connection.query(PQQuery(stringLiteral: sql))
                Issue.record("\(sql) was accepted")
            } catch let error as PQError {
                #expect(error.sqlState?.rawValue == state, "\(sql): \(error)")
                #expect(error.column == column, "\(sql): \(error)")
            }
        }
        // Arguments over max_args_bytes, in the second row.
        try await connection.query("SELECT porter.set_limit('max_args_bytes', 100)")
        let big = #"{"blob": "\#(String(repeating: "x", count: 200))"}"#
        let error = try await #require(throws: PQError.self) {
            try await connection.query("SELECT * FROM porter.enqueue_batch('m', \(PQJSON(text: "[{}, \(big)]"))::jsonb)")
        }
        #expect(error.sqlState?.rawValue == "54000" && error.column == "args", "\(error)")
        #expect(try await connection.query("SELECT count(*) FROM porter.jobs").single(Int.self) == 0)
        // An empty array enqueues nothing, and says so with no rows.
        #expect(try await connection.query("SELECT * FROM porter.enqueue_batch('m', '[]')").count == 0)
        await connection.close()
    }

    /// The transaction's trace context (`porter.traceparent`) goes to every job of a batch
    /// that names none, as it does for porter.enqueue.
    @Test func aBatchTakesTheTransactionsTraceContext() async throws {
        let database = try await TestDatabase.create()
        let connection = try await database.connect()
        let parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        try await connection.query("BEGIN")
        try await connection.query("SELECT set_config('porter.traceparent', \(parent), true)")
        try await connection.query(#"SELECT * FROM porter.enqueue_batch('m', '[{}, {"n": 2}]')"#)
        try await connection.query("COMMIT")
        #expect(try await connection.query("SELECT count(*) FROM porter.jobs WHERE traceparent = \(parent)").single(Int.self) == 2)
        await connection.close()
    }

    /// For any method, arguments and options, porter.enqueue_batch writes the rows that
    /// porter.enqueue called once per job writes in the same transaction, or refuses the batch
    /// where that refuses a job; each is tried in a transaction that is rolled back.
    @Test func aBatchMakesTheRowsThatOneEnqueuePerJobMakesOrIsRefusedAsItIs() async throws {
        let database = try await TestDatabase.create()
        let connection = try await database.connect()
        _ = try await connection.query("SELECT porter.enqueue('parent')")
        var agreed = (made: 0, refused: 0)
        await propertyCheck(count: 300, input: EnqueuePropertyTests.request.array(of: 1...4)) { requests in
            let method = requests[0].method
            let options = requests[0].options
            let args = requests.map(\.args)
            // One transaction, so that now() (run_at, enqueued_at) is the same for both.
            try await connection.query("BEGIN")
            let single = try await Self.rowsOrRefusal(on: connection) {
                for arguments in args {
                    try await connection.query(JobQueries.enqueue(EnqueueRequest(method: method, args: arguments, options: options)))
                }
            }
            let batch = try await Self.rowsOrRefusal(on: connection) {
                try await connection.query(
                    JobQueries.enqueueBatch(EnqueueBatch(method: method, args: args, options: options)))
            }
            try await connection.query("ROLLBACK")
            switch (single, batch) {
            case (.success(let expected), .success(let rows)):
                #expect(rows == expected, "method \(method), options \(options)")
                agreed.made += 1
            case (.failure(let expected), .failure(let error)):
                #expect(EnqueuePropertyTests.refusals.contains(error), "\(error), where one enqueue per job gave \(expected)")
                agreed.refused += 1
            default:
                Issue.record("one enqueue per job gave \(single), the batch \(batch): method \(method), options \(options)")
            }
        }
        #expect(agreed.made > 0 && agreed.refused > 0, "\(agreed)")
        await connection.close()
    }

    /// The rows `body` inserts (all but their ids, in id order) or the SQLSTATE that refused
    /// it; either way rolled back to a savepoint of the caller's transaction.
    static func rowsOrRefusal(
        on connection: PQConnection, _ body: () async throws -> Void
    ) async throws -> Result<[String], Refusal> {
        try await connection.query("SAVEPOINT attempt")
        let before = try await connection.query("SELECT coalesce(max(id), 0) FROM porter.jobs").single(Int64.self)
        do {
            try await body()
            let rows = try await connection.query(
                "SELECT (to_jsonb(j) - 'id')::text FROM porter.jobs j WHERE id > \(before) ORDER BY id"
            ).map { try $0.decode(String.self, at: 0) }
            try await connection.query("ROLLBACK TO SAVEPOINT attempt")
            return .success(rows)
        } catch let error as PQError {
            try await connection.query("ROLLBACK TO SAVEPOINT attempt")
            return .failure(Refusal(sqlState: error.sqlState?.rawValue ?? "none"))
        }
    }

    struct Refusal: Error, CustomStringConvertible {
        var sqlState: String
        var description: String { sqlState }
    }
}

extension Set where Element == String {
    func contains(_ refusal: EnqueueBatchTests.Refusal) -> Bool { contains(refusal.sqlState) }
}
