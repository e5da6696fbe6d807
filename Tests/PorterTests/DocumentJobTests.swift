import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// A franchise outlet, loaded from app.outlets by name.
struct OutletDocument: Document {
    static let doctype = "Outlet"
    var name: String
    var warehouse: String?

    static func load(name: String, context: JobContext) async throws -> OutletDocument? {
        guard let row = try await context.pool.query("SELECT name, warehouse FROM app.outlets WHERE name = \(name)").first
        else { return nil }
        let (found, warehouse) = try row.decode((String, String?).self)
        return OutletDocument(name: found, warehouse: warehouse)
    }
}

struct SyncedStock: Codable, Sendable {
    var outlet: String
    var warehouse: String?
    var force: Bool
}

@Suite struct DocumentJobTests {
    private func setUp() async throws -> PorterClient {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(document: OutletDocument.self, method: "sync_stock") { outlet, kwargs, context in
            struct Options: Decodable { var force: Bool? }
            let force = try kwargs.decode(Options.self).force ?? false
            try await context.pool.query("INSERT INTO app.effects (job, note) VALUES (\(context.id ?? 0), \(outlet.name))")
            return SyncedStock(outlet: outlet.name, warehouse: outlet.warehouse, force: force)
        }
        let porter = database.makeClient(registry: registry)
        try await createSQLJobs(porter)
        try await porter.pool.query("CREATE TABLE app.outlets (name text PRIMARY KEY, warehouse text)")
        try await porter.pool.query("INSERT INTO app.outlets VALUES ('OUT-1', 'North'), ('OUT-2', NULL)")
        return porter
    }

    @Test func enqueueDocFromSQLAndSwiftRunsTheDocumentMethod() async throws {
        let porter = try await setUp()
        let fromSQL = try await porter.pool.query(
            "SELECT porter.enqueue_doc('Outlet', 'OUT-1', 'sync_stock', '{\"force\": true}', queue => 'short')"
        ).single(Int64.self)
        let fromSwift = try #require(try await porter.enqueueDoc(doctype: "Outlet", name: "OUT-2", method: "sync_stock").id)
        let queued = try #require(try await porter.job(id: fromSQL))
        #expect(queued.method == "porter.run_doc_method")
        #expect(queued.queue == "short")

        let worker = RunningWorker(porter, fastConfiguration())
        let first = try await waitForJob(porter, fromSQL, .finished)
        let second = try await waitForJob(porter, fromSwift, .finished)
        let firstResult = try #require(first.result).decode(SyncedStock.self)
        #expect(firstResult.outlet == "OUT-1" && firstResult.warehouse == "North" && firstResult.force)
        let secondResult = try #require(second.result).decode(SyncedStock.self)
        #expect(secondResult.outlet == "OUT-2" && secondResult.warehouse == nil && !secondResult.force)
        #expect(try await effects(porter, job: fromSQL) == 1)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func unknownDoctypeNameOrMethodFailsTheJobWithoutRetrying() async throws {
        let porter = try await setUp()
        let options = EnqueueOptions(maxAttempts: 3)
        let noDoctype = try #require(try await porter.enqueueDoc(doctype: "Warehouse", name: "W1", method: "sync_stock", options: options).id)
        let noName = try #require(try await porter.enqueueDoc(doctype: "Outlet", name: "OUT-404", method: "sync_stock", options: options).id)
        let noMethod = try #require(try await porter.enqueueDoc(doctype: "Outlet", name: "OUT-1", method: "explode", options: options).id)

        let worker = RunningWorker(porter, fastConfiguration())
        let doctype = try await waitForJob(porter, noDoctype, .failed)
        #expect(doctype.error?.hasPrefix("unknown doctype Warehouse: no document type of that name is registered in this worker (registered: Outlet)") == true)
        let name = try await waitForJob(porter, noName, .failed)
        #expect(name.error?.hasPrefix("Outlet OUT-404 not found") == true)
        let method = try await waitForJob(porter, noMethod, .failed)
        #expect(method.error?.hasPrefix("Outlet has no method explode (registered: sync_stock)") == true)
        for job in [doctype, name, method] { #expect(job.attempts == 1) }
        try await worker.shutdown()
        await porter.close()
    }

    @Test func enqueueDocRefusesMissingArguments() async throws {
        let porter = try await setUp()
        for (call, column) in [
            ("porter.enqueue_doc(NULL, 'OUT-1', 'sync_stock')", "doctype"),
            ("porter.enqueue_doc('Outlet', '', 'sync_stock')", "name"),
            ("porter.enqueue_doc('Outlet', 'OUT-1', ' ')", "method"),
            ("porter.enqueue_doc('Outlet', 'OUT-1', 'sync_stock', '[1]')", "args"),
        ] {
            await #expect {
                try await porter.pool.query("SELECT \(unsafeRaw: call)")
            } throws: { error in
                (error as? PQError)?.column == column
            }
        }
        await #expect {
            try await porter.enqueueDoc(doctype: "Outlet", name: "", method: "sync_stock")
        } throws: { error in
            (error as? PorterError)?.code == .invalidArgument(parameter: "name")
        }
        #expect(try await porter.jobs().isEmpty)
        await porter.close()
    }

    @Test func enqueueDocRunsInlineInNowMode() async throws {
        let porter = try await setUp()
        let result = try await porter.enqueueDoc(
            doctype: "Outlet", name: "OUT-1", method: "sync_stock", args: PQJSON(text: #"{"force": true}"#),
            options: EnqueueOptions(now: true))
        guard case .ranInline(let json) = result else {
            Issue.record("expected an inline run, got \(result)")
            return
        }
        #expect(try #require(json).decode(SyncedStock.self).force)
        await porter.close()
    }
}
