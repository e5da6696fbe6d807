import PorterPostgres
import PorterTesting
import Testing

@Suite struct PostgresPoolTests {
    @Test func poolReplacesAConnectionTerminatedByTheServer() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let pool = PQPool(database.configuration, maximumConnections: 1)
        let firstPID = try await pool.query("SELECT pg_backend_pid()").single(Int32.self)

        let admin = try await database.connect()
        #expect(try await admin.query("SELECT pg_terminate_backend(\(firstPID))").single(Bool.self))
        try await waitUntil("the terminated backend to exit") {
            try await admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = \(firstPID)").single(Int.self) == 0
        }

        // The very next statement succeeds, on a new connection.
        let secondPID = try await pool.query("SELECT pg_backend_pid()").single(Int32.self)
        #expect(secondPID != firstPID)
        #expect(await pool.stats.open == 1)
        await pool.close()
    }

    @Test func aTerminationCostsAtMostTheStatementInFlight() async throws {
        // No wait for the backend to exit: whatever the interleaving of the server's FATAL, its
        // closing the socket and the next statement, at most that one statement fails, as a
        // lost connection, and the pool has replaced the connection for the one after it.
        let database = try await TestDatabase.create(migrated: false)
        let pool = PQPool(database.configuration, maximumConnections: 1)
        let admin = try await database.connect()
        for _ in 0..<20 {
            let pid = try await pool.query("SELECT pg_backend_pid()").single(Int32.self)
            try await admin.query("SELECT pg_terminate_backend(\(pid))")
            do {
                try await pool.query("SELECT 1")
            } catch let error as PQError {
                #expect(error.isConnectionLost, "\(error)")
            }
            #expect(try await pool.query("SELECT pg_backend_pid()").single(Int32.self) != pid)
        }
        #expect(await pool.stats.open == 1)
        await pool.close()
    }

    @Test func poolNeverOpensMoreThanItsMaximum() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let pool = PQPool(database.configuration, maximumConnections: 3)
        let pids = try await withThrowingTaskGroup(of: Int32.self) { group in
            for _ in 0..<12 {
                group.addTask { try await pool.query("SELECT pg_backend_pid() FROM pg_sleep(0.05)").single(Int32.self) }
            }
            return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
        }
        #expect(pids.count <= 3)
        #expect(await pool.stats.open <= 3)
        await pool.close()
    }

    @Test func aTaskWaitingForAConnectionCanBeCancelled() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let pool = PQPool(database.configuration, maximumConnections: 1)
        // Hold the only connection until the test lets go.
        let (release, releaser) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await pool.withConnection { _ in
                for await _ in release { break }
            }
        }
        try await waitUntil("the holder to lease the connection") { await pool.stats == (open: 1, idle: 0) }
        let waiter = Task { try await pool.query("SELECT 1") }
        waiter.cancel()
        // Should the cancel not work, the holder lets go after 5 s and the waiter's statement
        // runs: the test fails instead of hanging.
        let safety = Task {
            try await Task.sleep(for: .seconds(5))
            releaser.yield()
        }
        defer { safety.cancel() }
        // Out of the line at once, while the connection is still held.
        let result = await waiter.result
        #expect(throws: CancellationError.self) { try result.get() }
        releaser.yield()
        try await holder.value
        // The line is empty: the next lease gets the connection back.
        #expect(try await pool.query("SELECT 1").single(Int.self) == 1)
        await pool.close()
    }

    @Test func connectionReturnedInsideATransactionIsRolledBack() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let pool = PQPool(database.configuration, maximumConnections: 1)
        try await pool.query("CREATE TABLE t (n int)")
        try await pool.withConnection { connection in
            try await connection.execute("BEGIN; INSERT INTO t VALUES (1)")
        }
        #expect(try await pool.query("SELECT count(*) FROM t").single(Int.self) == 0)
        await pool.close()
    }
}
