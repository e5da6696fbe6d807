// Frappe's enqueue_doc: a worker loads a record of a registered document type by name and
// runs one of its methods.
import Porter
import PorterPostgres

// snippet.hide
var registry = JobRegistry()
let porter = try PorterClient(databaseURL: "postgresql://localhost/app", registry: registry)
// snippet.show
struct Outlet: Document {
    static let doctype = "Outlet"
    var name: String
    var warehouse: String?

    static func load(name: String, context: JobContext) async throws -> Outlet? {  // nil: not found
        let rows = try await context.pool.query("SELECT name, warehouse FROM app.outlets WHERE name = \(name)")
        return try rows.first.map { row in
            let (name, warehouse) = try row.decode((String, String?).self)
            return Outlet(name: name, warehouse: warehouse)
        }
    }
}
registry.register(document: Outlet.self, method: "sync_stock") { outlet, kwargs, context in
    context.logger.info("syncing", metadata: ["outlet": "\(outlet.name)", "kwargs": "\(kwargs)"])
}
try await porter.pool.withTransaction { transaction in
    try await porter.enqueueDoc(doctype: "Outlet", name: "SJ-0042", method: "sync_stock",
                                args: PQJSON(text: #"{"force": true}"#), on: transaction)
}
