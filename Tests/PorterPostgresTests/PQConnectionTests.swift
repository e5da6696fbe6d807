import Foundation
@testable import PorterPostgres
import PorterTesting
import Testing

@Suite struct PostgresConnectionTests {
    @Test func byteaRoundTripsEveryByteValue() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let connection = try await database.connect()
        let bytes = Data((0...255).map(UInt8.init) + [0, 0xFF, 0x5C, 0x78])
        let back = try await connection.query("SELECT \(bytes)::bytea").single(Data.self)
        #expect(back == bytes)
        #expect(try await connection.query("SELECT ''::bytea").single(Data.self).isEmpty)
        // The escape output format is refused with the setting to change, not misread.
        try await connection.execute("SET bytea_output = 'escape'")
        let error = await #expect(throws: PQError.self) {
            try await connection.query("SELECT '\\x41'::bytea").single(Data.self)
        }
        #expect(error?.message.contains("bytea_output") == true)
        await connection.close()
    }

    /// libpq takes parameters as C strings: "app\0evil" was sent, and stored, as "app".
    @Test func aParameterWithANULCharacterIsRefusedInsteadOfCutShort() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let connection = try await database.connect()
        for query: PQQuery in ["SELECT \("app\u{0}evil")::text", "SELECT \("\u{0}")::text", "SELECT \("ok")::text, \("x\u{0}")::text"] {
            let error = try await #require(throws: PQError.self) { try await connection.query(query) }
            #expect(error.sqlState == SQLState("22021"))
            #expect(error.message.contains("NUL"))
        }
        // Prepared statements too, and the connection is still usable.
        let error = try await #require(throws: PQError.self) {
            let query: PQQuery = "SELECT \("a\u{0}b")::text"
            try await connection.query(query.prepared())
        }
        #expect(error.sqlState == SQLState("22021"))
        #expect(try await connection.query("SELECT \("fine")::text").single(String.self) == "fine")
        await connection.close()
    }

    @Test func connectionsAskForTCPKeepalivesUnlessTheConnectionStringSaysOtherwise() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let connection = try await database.connect()
        #expect(await connection.option("keepalives_idle") == "30")
        #expect(await connection.option("keepalives_count") == "3")
        let custom = try await PQConnection.connect(
            PQConfiguration(database.connectionString + " keepalives_idle=7"))
        #expect(await custom.option("keepalives_idle") == "7")
        #expect(await custom.option("keepalives_interval") == "10")
        await connection.close()
        await custom.close()
    }

    @Test func decodesTypedRowsByPositionNameAndTuple() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let connection = try await database.connect()
        let rows = try await connection.query("""
            SELECT 42::bigint AS id, 'héllo'::text AS name, true AS flag, NULL::int AS missing,
                   '2026-11-25 03:34:09.123456+00'::timestamptz AS at, '{"a": [1, 2]}'::jsonb AS doc,
                   ARRAY['x', 'y,z', 'q"uote'] AS words, 1.5::float8 AS ratio
            """)
        let row = try #require(rows.first)
        #expect(try row.decode(Int64.self, column: "id") == 42)
        #expect(try row.decode(String.self, at: 1) == "héllo")
        #expect(try row.decode(Bool.self, column: "flag"))
        #expect(try row.decode(Int?.self, column: "missing") == nil)
        #expect(abs(try row.decode(Date.self, column: "at").timeIntervalSince1970 - 1_795_577_649.123456) < 0.000_001)
        struct Doc: Decodable { var a: [Int] }
        #expect(try row.decode(PQJSON.self, column: "doc").decode(Doc.self).a == [1, 2])
        #expect(try row.decode([String].self, column: "words") == ["x", "y,z", "q\"uote"])
        let (id, name, flag, missing) = try row.decode((Int64, String, Bool, Int?).self)
        #expect(id == 42 && name == "héllo" && flag && missing == nil)
        #expect(throws: PQError.self) { try row.decode(Int.self, column: "missing") }
        #expect(throws: PQError.self) { try row.decode(Int.self, column: "name") }
    }

    @Test func preparedStatementsArePlannedOnceAndSurviveDeallocate() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let connection = try await database.connect()
        @Sendable func double(_ value: Int) -> PQQuery {
            let query: PQQuery = "SELECT \(value)::int * 2"
            return query.prepared()
        }
        #expect(try await connection.query(double(21)).single(Int.self) == 42)
        #expect(try await connection.query(double(50)).single(Int.self) == 100)
        // One statement on the server for both runs.
        let prepared = try await connection.query("SELECT name, statement FROM pg_prepared_statements").map {
            try $0.decode((String, String).self)
        }
        #expect(prepared.count == 1 && prepared.first?.1 == "SELECT $1::int * 2")
        // Someone deallocates on the session: the next run prepares again.
        try await connection.execute("DEALLOCATE ALL")
        #expect(try await connection.query(double(5)).single(Int.self) == 10)
        // Inside a transaction the failure has aborted it, so it is reported, not hidden.
        try await connection.execute("DEALLOCATE ALL")
        await #expect {
            try await connection.withTransaction { transaction in try transaction.query(double(1)) }
        } throws: { error in
            (error as? PQError)?.sqlState == .invalidSQLStatementName
        }
        #expect(try await connection.query(double(4)).single(Int.self) == 8)
        // Many distinct statements do not pile up on the session.
        for value in 0..<100 {
            #expect(try await connection.query(PQQuery(unsafeSQL: "SELECT \(value) + $1::int", binds: [1]).prepared()).single(Int.self) == value + 1)
        }
        #expect(try await connection.query("SELECT count(*) FROM pg_prepared_statements").single(Int.self) <= 64)
        await connection.close()
    }

    /// A `DEALLOCATE` of one statement used to make the connection forget every name and
    /// prepare the next statement anew, which then met 42P05 for a statement still there.
    @Test func deallocatingOneStatementLeavesTheOthersWorking() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let connection = try await database.connect()
        let added: PQQuery = "SELECT \(1)::int + 1"
        let multiplied: PQQuery = "SELECT \(2)::int * 10"
        #expect(try await connection.query(added.prepared()).single(Int.self) == 2)
        #expect(try await connection.query(multiplied.prepared()).single(Int.self) == 20)
        let name = try await connection.query(
            "SELECT name FROM pg_prepared_statements WHERE statement = \(multiplied.sql)").single(String.self)
        try await connection.execute("DEALLOCATE \(name)")
        #expect(try await connection.query(multiplied.prepared()).single(Int.self) == 20)
        #expect(try await connection.query(added.prepared()).single(Int.self) == 2)
        #expect(try await connection.query("SELECT count(*) FROM pg_prepared_statements").single(Int.self) == 2)
        await connection.close()
    }

    @Test func interpolatedValuesAreBindsNotSQL() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let connection = try await database.connect()
        let hostile = "x'); DROP TABLE t; --"
        let date = Date(timeIntervalSince1970: 1_700_000_000.5)
        try await connection.execute("CREATE TABLE t (name text, at timestamptz, tags text[])")
        try await connection.query("INSERT INTO t VALUES (\(hostile), \(date), \(["a", "b c"])::text[])")
        let row = try #require(try await connection.query("SELECT name, at, tags FROM t").first)
        #expect(try row.decode(String.self, at: 0) == hostile)
        #expect(try row.decode(Date.self, at: 1) == date)
        #expect(try row.decode([String].self, at: 2) == ["a", "b c"])
        let query: PQQuery = "SELECT \(1), \(Optional<String>.none)"
        #expect(query.sql == "SELECT $1, $2")
        #expect(query.binds == ["1", nil])
    }

    @Test func serverErrorsKeepSQLStateDetailHintAndConstraint() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let connection = try await database.connect()
        try await connection.execute("CREATE TABLE u (k int CONSTRAINT u_k_key UNIQUE)")
        try await connection.query("INSERT INTO u VALUES (1)")
        let error = try await #require(throws: PQError.self) {
            try await connection.query("INSERT INTO u VALUES (\(1))")
        }
        #expect(error.code == .server)
        #expect(error.sqlState == .uniqueViolation)
        #expect(error.sqlState?.class == .integrityConstraintViolation)
        #expect(error.constraint == "u_k_key")
        #expect(error.detail?.contains("(k)=(1)") == true)
        let raised = try await #require(throws: PQError.self) {
            try await connection.execute("DO $$ BEGIN RAISE EXCEPTION 'nope' USING ERRCODE = '22023', HINT = 'try this', COLUMN = 'c'; END $$")
        }
        #expect(raised.sqlState == .invalidParameterValue)
        #expect(raised.message == "nope")
        #expect(raised.hint == "try this")
        #expect(raised.column == "c")
        // The connection is still usable after an error.
        #expect(try await connection.query("SELECT 1").single(Int.self) == 1)
    }

    @Test func transactionCommitsOnReturnAndRollsBackOnThrow() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let connection = try await database.connect()
        try await connection.execute("CREATE TABLE items (n int)")
        try await connection.withTransaction { connection in
            try connection.query("INSERT INTO items VALUES (\(1))")
        }
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            try await connection.withTransaction { connection in
                try connection.query("INSERT INTO items VALUES (\(2))")
                throw Abort()
            }
        }
        #expect(try await connection.query("SELECT array_agg(n) FROM items").single([Int].self) == [1])
        #expect(await connection.isInTransaction == false)
    }

    @Test func commitAfterACaughtStatementErrorReportsTheRollback() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let connection = try await database.connect()
        try await connection.execute("CREATE TABLE items (n int)")
        let error = try await #require(throws: PQError.self) {
            try await connection.withTransaction { connection in
                try connection.query("INSERT INTO items VALUES (\(1))")
                _ = try? connection.query("SELECT 1/0")
            }
        }
        #expect(error.sqlState == SQLState("25P02"))
        #expect(try await connection.query("SELECT count(*) FROM items").single(Int.self) == 0)
    }

    @Test func blockingStatementsRunConcurrentlyOffTheCooperativePool() async throws {
        // Swift's cooperative pool has as many threads as cores (2 here). Four connections
        // sleeping at once on the server proves their blocking calls do not occupy it.
        let database = try await TestDatabase.create(migrated: false)
        let observer = try await database.connect()
        let sleepers = try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let connection = try await database.connect()
                    try await connection.query("SELECT pg_sleep(3) AS porter_test_sleep")
                }
            }
            var seen = 0
            try await waitUntil("four statements sleeping at once") {
                seen = try await observer.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%AS porter_test_sleep'"
                ).single(Int.self)
                return seen == 4
            }
            group.cancelAll()
            try await group.waitForAll()
            return seen
        }
        #expect(sleepers == 4)
    }

    @Test func cancellingTheTaskCancelsTheRunningStatement() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let connection = try await database.connect()
        let task = Task {
            try await connection.withTransaction { connection in
                try connection.query("SELECT pg_sleep(60)")
            }
        }
        let observer = try await database.connect()
        try await waitUntil("the sleep to start") {
            try await observer.query("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'").single(Int.self) == 1
        }
        task.cancel()
        let error = await #expect(throws: PQError.self) { try await task.value }
        #expect(error?.sqlState == .queryCanceled)
        #expect(try await connection.query("SELECT 1").single(Int.self) == 1)
    }

    @Test func badConnectionStringsAndUnreachableServersGiveClearErrors() async throws {
        let invalid = #expect(throws: PQError.self) { try PQConfiguration("host=x port") }
        #expect(invalid?.code == .invalidConfiguration)
        let configuration = try PQConfiguration("host=/nonexistent-porter-socket-dir port=1 connect_timeout=2")
        let error = await #expect(throws: PQError.self) { try await PQConnection.connect(configuration) }
        #expect(error?.code == .connectionFailed)
        #expect(error?.isConnectionLost == true)
    }
}
