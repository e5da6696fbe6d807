import Logging
import Porter
import PorterPostgres
import PostgresNIO

extension PostgresConnection {
    /// Enqueues a document method on this connection, inside the caller's transaction
    /// (Frappe's `enqueue_doc`): a worker loads the `doctype` record named `name` and runs its
    /// `method` with `args`. Runs `porter.enqueue_doc`, as `PorterClient.enqueueDoc` does, and
    /// throws the same errors as ``enqueue(_:options:logger:)``.
    @discardableResult
    public func enqueueDoc(
        doctype: String, name: String, method: String, args: PQJSON = PQJSON(text: "{}"),
        options: EnqueueOptions = EnqueueOptions(), logger: Logger
    ) async throws -> EnqueueResult {
        try Self.refuseNow(options)
        let job = DocumentJob(doctype: doctype, name: name, docMethod: method, kwargs: args)
        var request = EnqueueRequest(method: DocumentJob.method, args: job.args, options: options)
        try EnqueueTracing.check(CollectionOfOne(request))
        let send = EnqueueTracing.start(&request)
        let id: Int64?
        do {
            id = try await porterQuery(JobQueries.enqueueDoc(job, options: request.options), jobID: options.jobID, logger: logger) { row in
                try row.decode(Int64?.self)
            }.first ?? nil
        } catch {
            EnqueueTracing.end(send, error: error)
            throw error
        }
        EnqueueTracing.end(send, ids: [id])
        return PorterClient.result(id: id, request: request)
    }

    /// Enqueues a method of a typed document on this connection.
    @discardableResult
    public func enqueueDoc<D: Document>(
        _ type: D.Type, name: String, method: String, args: PQJSON = PQJSON(text: "{}"),
        options: EnqueueOptions = EnqueueOptions(), logger: Logger
    ) async throws -> EnqueueResult {
        try await enqueueDoc(doctype: D.doctype, name: name, method: method, args: args, options: options, logger: logger)
    }
}
