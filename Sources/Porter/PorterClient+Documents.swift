import PorterPostgres

extension PorterClient {
    /// Enqueues a document method on the caller's connection, Frappe's `enqueue_doc`: a worker
    /// loads the `doctype` record named `name` and runs its `method` with `args`. Calls
    /// `porter.enqueue_doc`, so Swift and SQL share the rules.
    @discardableResult
    public func enqueueDoc(
        doctype: String, name: String, method: String, args: PQJSON = PQJSON(text: "{}"),
        options: EnqueueOptions = EnqueueOptions(), on connection: isolated PQConnection
    ) async throws -> EnqueueResult {
        let job = DocumentJob(doctype: doctype, name: name, docMethod: method, kwargs: args)
        var request = EnqueueRequest(method: DocumentJob.method, args: job.args, options: options)
        if options.now { return try await enqueue(request, on: connection) }
        try EnqueueTracing.check(CollectionOfOne(request))
        let send = EnqueueTracing.start(&request, tracer: activeTracer)
        let id: Int64?
        do {
            id = try connection.query(JobQueries.enqueueDoc(job, options: request.options)).singleOptional(Int64.self)
        } catch {
            let translated = PorterError.fromEnqueue(error, jobID: options.jobID)
            EnqueueTracing.end(send, error: translated)
            throw translated
        }
        EnqueueTracing.end(send, ids: [id])
        return Self.result(id: id, request: request)
    }

    /// Enqueues a method of a typed document on the caller's connection.
    @discardableResult
    public func enqueueDoc<D: Document>(
        _ type: D.Type, name: String, method: String, args: PQJSON = PQJSON(text: "{}"),
        options: EnqueueOptions = EnqueueOptions(), on connection: isolated PQConnection
    ) async throws -> EnqueueResult {
        try await enqueueDoc(doctype: D.doctype, name: name, method: method, args: args, options: options, on: connection)
    }

    /// Enqueues a document method on Porter's pool, committed at once.
    @discardableResult
    public func enqueueDoc(
        doctype: String, name: String, method: String, args: PQJSON = PQJSON(text: "{}"),
        options: EnqueueOptions = EnqueueOptions()
    ) async throws -> EnqueueResult {
        try await pool.withConnection { connection in
            try await self.enqueueDoc(doctype: doctype, name: name, method: method, args: args, options: options, on: connection)
        }
    }
}
