import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

@Suite struct DemoTests {
    /// `porter demo` end to end on a test database: it kills its first worker after three
    /// chunks and a second one resumes. The demo checks itself and exits non-zero on any
    /// mismatch; this test checks the database independently.
    @Test func stockSyncDemoProcessesEveryOutletOnceAndResumesAfterAKill() async throws {
        let database = try await TestDatabase.create()
        let result = try await runPorter(["demo", "--database-url", database.connectionString])
        #expect(result.status == 0, "porter demo failed:\n\(result.output)")
        #expect(result.output.contains("duplicate of the active job, nothing queued"))
        #expect(result.output.contains("event stock_sync_resumed: resuming at chunk"))

        let porter = database.makeClient()
        let pool = porter.pool
        let outlets = try await pool.query("SELECT count(*) FROM scoopjoy.outlets").single(Int.self)
        let (stockLevels, maxTimesSynced) = try #require(
            try await pool.query("SELECT count(*), max(times_synced) FROM scoopjoy.stock_levels").first
        ).decode((Int, Int).self)
        let errors = try await pool.query("SELECT count(*) FROM scoopjoy.sync_errors").single(Int.self)
        let missingWarehouse = try await pool.query(
            "SELECT count(*) FROM scoopjoy.sync_errors e JOIN scoopjoy.outlets o ON o.id = e.outlet_id WHERE o.warehouse IS NULL"
        ).single(Int.self)
        let negativeStock = try await pool.query(
            "SELECT count(*) FROM scoopjoy.sync_errors e JOIN scoopjoy.outlets o ON o.id = e.outlet_id WHERE o.reported_stock < 0"
        ).single(Int.self)
        #expect(outlets == 500)
        #expect(stockLevels + errors == 500)
        #expect(missingWarehouse == 21 && negativeStock == 8 && errors == 29)
        #expect(maxTimesSynced == 1)  // no committed chunk was redone after the kill

        let sync = try #require(try await porter.jobs().first { $0.method == "scoopjoy.sync_stock" })
        #expect(sync.status == .finished)
        #expect(sync.orphaned == 1 && sync.attempts == 2)
        let reports = try await porter.jobs().filter { $0.method == "scoopjoy.write_sync_report" }
        #expect(reports.count == 1)
        #expect(reports.first?.status == .finished && reports.first?.queue == "short")
        let log = try await pool.query("SELECT total, succeeded, failed FROM scoopjoy.sync_log").map { try $0.decode((Int, Int, Int).self) }
        #expect(log.count == 1)
        #expect(log.first.map { [$0.0, $0.1, $0.2] } == [500, 471, 29])
        await porter.close()
    }

    @Test func ordersDemoShowsCommitRollbackAndDedup() async throws {
        let database = try await TestDatabase.create()
        let result = try await runPorter(["demo", "orders", "--database-url", database.connectionString])
        #expect(result.status == 0, "porter demo orders failed:\n\(result.output)")
        let porter = database.makeClient()
        #expect(try await porter.pool.query("SELECT count(*) FROM demo_orders").single(Int.self) == 1)
        #expect(try await porter.jobs().map(\.method) == ["orders.send_confirmation"])
        await porter.close()
    }
}
