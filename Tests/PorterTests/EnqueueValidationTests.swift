import Porter
import PorterPostgres
import PorterTesting
import Testing

/// Every bad input is refused with a specific SQLSTATE and the parameter named, by the SQL
/// function and by the Swift API alike, and nothing is inserted.
@Suite struct EnqueueValidationTests {
    struct BadInput: Sendable, CustomTestStringConvertible {
        var sql: String
        var sqlState: SQLState
        var parameter: String
        var request: EnqueueRequest?
        var testDescription: String { sql }
    }

    static let cases: [BadInput] = [
        BadInput(sql: "SELECT porter.enqueue(method => NULL)", sqlState: .nullValueNotAllowed, parameter: "method", request: nil),
        BadInput(sql: "SELECT porter.enqueue(method => '')", sqlState: .invalidParameterValue, parameter: "method",
                 request: EnqueueRequest(method: "")),
        BadInput(sql: "SELECT porter.enqueue(method => '   ')", sqlState: .invalidParameterValue, parameter: "method",
                 request: EnqueueRequest(method: "   ")),
        BadInput(sql: "SELECT porter.enqueue('m', args => '[1, 2]')", sqlState: .invalidParameterValue, parameter: "args",
                 request: EnqueueRequest(method: "m", args: PQJSON(text: "[1, 2]"))),
        BadInput(sql: "SELECT porter.enqueue('m', args => '\"text\"')", sqlState: .invalidParameterValue, parameter: "args",
                 request: EnqueueRequest(method: "m", args: PQJSON(text: "\"text\""))),
        BadInput(sql: "SELECT porter.enqueue('m', queue => '')", sqlState: .invalidParameterValue, parameter: "queue",
                 request: EnqueueRequest(method: "m", options: EnqueueOptions(queue: ""))),
        BadInput(sql: "SELECT porter.enqueue('m', queue => NULL)", sqlState: .nullValueNotAllowed, parameter: "queue", request: nil),
        BadInput(sql: "SELECT porter.enqueue('m', timeout => 0)", sqlState: .invalidParameterValue, parameter: "timeout",
                 request: EnqueueRequest(method: "m", options: EnqueueOptions(timeout: 0))),
        BadInput(sql: "SELECT porter.enqueue('m', timeout => -5)", sqlState: .invalidParameterValue, parameter: "timeout",
                 request: EnqueueRequest(method: "m", options: EnqueueOptions(timeout: -5))),
        BadInput(sql: "SELECT porter.enqueue('m', max_attempts => 0)", sqlState: .invalidParameterValue, parameter: "max_attempts",
                 request: EnqueueRequest(method: "m", options: EnqueueOptions(maxAttempts: 0))),
        BadInput(sql: "SELECT porter.enqueue('m', deduplicate => true)", sqlState: .invalidParameterValue, parameter: "job_id",
                 request: EnqueueRequest(method: "m", options: EnqueueOptions(deduplicate: true))),
        BadInput(sql: "SELECT porter.enqueue('m', args => jsonb_build_object('blob', repeat('x', 2000000)))",
                 sqlState: .programLimitExceeded, parameter: "args", request: nil),
    ]

    @Test(arguments: cases)
    func badInputIsRefusedWithASpecificSQLStateAndNothingIsInserted(_ input: BadInput) async throws {
        let database = try await TestDatabase.create()
        let connection = try await database.connect()
        let error = try await #require(throws: PQError.self) { try await connection.execute(input.sql) }
        #expect(error.sqlState == input.sqlState)
        #expect(error.column == input.parameter)
        #expect(error.message.hasPrefix("porter.enqueue"))
        #expect(error.hint != nil)

        if let request = input.request {
            let porter = database.makeClient()
            let swiftError = try await #require(throws: PorterError.self) { try await porter.enqueue(request) }
            #expect(swiftError.code == .invalidArgument(parameter: input.parameter))
            #expect(swiftError.sqlState == input.sqlState)
            await porter.close()
        }
        #expect(try await jobCount(database) == 0)
        await connection.close()
    }

    @Test func tableConstraintsHoldForPlainInsertsToo() async throws {
        let database = try await TestDatabase.create()
        let connection = try await database.connect()
        let error = try await #require(throws: PQError.self) {
            try await connection.execute("INSERT INTO porter.jobs (method, args) VALUES ('m', '[]')")
        }
        #expect(error.sqlState == .checkViolation)
        #expect(error.constraint == "jobs_args_is_object")
    }
}
