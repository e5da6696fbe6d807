import FluentKit
import Porter
import PorterPostgres
import PorterPostgresNIO

extension Database {
    /// Enqueues a document method on this database's connection, inside the caller's
    /// transaction (Frappe's `enqueue_doc`): a worker loads the `doctype` record named `name`
    /// and runs its `method` with `args`. Runs `porter.enqueue_doc` and throws the same errors
    /// as `enqueue(_:options:)`.
    @discardableResult
    public func enqueueDoc(
        doctype: String, name: String, method: String, args: PQJSON = PQJSON(text: "{}"),
        options: EnqueueOptions = EnqueueOptions()
    ) async throws -> EnqueueResult {
        let logger = self.logger
        return try await withPorterConnection { connection in
            try await connection.enqueueDoc(
                doctype: doctype, name: name, method: method, args: args, options: options, logger: logger)
        }
    }

    /// Enqueues a method of a typed document on this database's connection.
    @discardableResult
    public func enqueueDoc<D: Document>(
        _ type: D.Type, name: String, method: String, args: PQJSON = PQJSON(text: "{}"),
        options: EnqueueOptions = EnqueueOptions()
    ) async throws -> EnqueueResult {
        try await enqueueDoc(doctype: D.doctype, name: name, method: method, args: args, options: options)
    }
}
