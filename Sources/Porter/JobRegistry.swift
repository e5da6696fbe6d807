import PorterPostgres

/// The handlers a process can run, by method name.
///
/// ```swift
/// var registry = JobRegistry()
/// registry.register(GenerateReport.self) { job, context in
///     context.logger.info("generating", metadata: ["group": "\(job.outletGroup ?? "all")"])
/// }
/// ```
public struct JobRegistry: Sendable {
    /// Runs a job from its JSON arguments and returns its result as JSON, if it has one.
    public typealias Handler = @Sendable (PQJSON, JobContext) async throws -> PQJSON?

    /// Runs one method of a document type on the record named by the first argument.
    typealias DocumentHandler = @Sendable (_ name: String, _ kwargs: PQJSON, JobContext) async throws -> PQJSON?

    private var handlers: [String: Handler] = [:]
    /// Document methods by doctype, then by method name.
    private var documents: [String: [String: DocumentHandler]] = [:]

    /// An empty registry; register each job type's handler with `register`.
    public init() {}

    /// Registers the handler for a typed job. Its arguments are decoded before the call.
    public mutating func register<J: Job>(
        _ type: J.Type, _ handler: @escaping @Sendable (J, JobContext) async throws -> Void
    ) {
        register(type) { (job: J, context: JobContext) -> NoResult in
            try await handler(job, context)
            return NoResult()
        }
    }

    /// Registers the handler for a typed job that returns a result; the result is stored in
    /// `porter.jobs.result` as JSON, encoded as the arguments are (see `Job`).
    public mutating func register<J: Job, R: Encodable & Sendable>(
        _ type: J.Type, _ handler: @escaping @Sendable (J, JobContext) async throws -> R
    ) {
        handlers[J.method] = { args, context in
            let job: J
            do {
                job = try args.decode(J.self)
            } catch {
                throw PorterError(
                    code: .invalidArgument(parameter: "args"),
                    message: "the args of \(J.method) do not decode as \(J.self): \(error)")
            }
            return try NoResult.encode(try await handler(job, context))
        }
    }

    /// Registers a handler by method name that takes the raw JSON arguments.
    public mutating func register(method: String, _ handler: @escaping Handler) {
        handlers[method] = handler
    }

    /// Registers a method of a document type, run by `porter.enqueue_doc` and `enqueueDoc`
    /// jobs: the record is loaded by name, then the handler gets it and the method's keyword
    /// arguments.
    public mutating func register<D: Document>(
        document type: D.Type, method: String,
        _ handler: @escaping @Sendable (D, PQJSON, JobContext) async throws -> Void
    ) {
        register(document: type, method: method) { (document: D, kwargs: PQJSON, context: JobContext) -> NoResult in
            try await handler(document, kwargs, context)
            return NoResult()
        }
    }

    /// Registers a method of a document type that returns a result, stored as JSON.
    public mutating func register<D: Document, R: Encodable & Sendable>(
        document type: D.Type, method: String,
        _ handler: @escaping @Sendable (D, PQJSON, JobContext) async throws -> R
    ) {
        documents[D.doctype, default: [:]][method] = { name, kwargs, context in
            guard let document = try await D.load(name: name, context: context) else {
                throw PorterError(
                    code: .documentNotFound(doctype: D.doctype, name: name),
                    message: "\(D.doctype) \(name) not found: \(D.self).load(name:) returned nil")
            }
            return try NoResult.encode(try await handler(document, kwargs, context))
        }
    }

    /// The handler for `method`, if one is registered. `porter.run_doc_method` dispatches to
    /// the registered document types unless a handler of that name was registered explicitly.
    public func handler(for method: String) -> Handler? {
        if let handler = handlers[method] { return handler }
        if method == DocumentJob.method { return runDocumentMethod }
        return nil
    }

    /// Every registered method, sorted.
    public var methods: [String] { handlers.keys.sorted() }

    /// Every registered document method as (doctype, method), sorted.
    var documentMethods: [(doctype: String, method: String)] {
        documents.flatMap { doctype, methods in methods.keys.map { (doctype, $0) } }.sorted { ($0.doctype, $0.method) < ($1.doctype, $1.method) }
    }

    /// Whether `porter.run_doc_method` jobs go to a handler registered under that name rather
    /// than to the registered document types.
    var handlesDocumentJobsItself: Bool { handlers[DocumentJob.method] != nil }

    /// The handler of `porter.run_doc_method`: finds the doctype and its method, then loads
    /// and runs. Each way of missing fails the job with a permanent error that says which.
    private var runDocumentMethod: Handler {
        let documents = documents
        return { args, context in
            let job = try DocumentJob(args: args)
            if let error = Self.lookupError(doctype: job.doctype, docMethod: job.docMethod, in: documents) { throw error }
            return try await documents[job.doctype]![job.docMethod]!(job.name, job.kwargs, context)
        }
    }

    /// Why a document job of `doctype` and `docMethod` cannot run here, or nil if it can.
    func documentLookupError(doctype: String, docMethod: String) -> PorterError? {
        Self.lookupError(doctype: doctype, docMethod: docMethod, in: documents)
    }

    private static func lookupError(
        doctype: String, docMethod: String, in documents: [String: [String: DocumentHandler]]
    ) -> PorterError? {
        guard let methods = documents[doctype] else {
            return PorterError(
                code: .unknownDoctype(doctype),
                message: "unknown doctype \(doctype): no document type of that name is registered in this worker (registered: \(documents.keys.sorted().joined(separator: ", "))); register it with registry.register(document:method:)")
        }
        guard methods[docMethod] != nil else {
            return PorterError(
                code: .unknownDocumentMethod(doctype: doctype, method: docMethod),
                message: "\(doctype) has no method \(docMethod) (registered: \(methods.keys.sorted().joined(separator: ", ")))")
        }
        return nil
    }

    /// Why a worker with this registry cannot run a job of `method`: a job's error when it
    /// fails for that, and what `ForeignJobs` tells other workers.
    func unknownMethodMessage(_ method: String) -> String {
        "unknown method \(method): no handler is registered for it in this worker (registered: \(methods.joined(separator: ", ")))"
    }

    /// The handler for `method`, or an `unknownMethod` error that says how to register it.
    func requireHandler(for method: String) throws -> Handler {
        guard let handler = handler(for: method) else {
            throw PorterError(
                code: .unknownMethod(method),
                message: "no handler is registered for method \(method); register it with registry.register(...) (registered: \(methods.joined(separator: ", ")))")
        }
        return handler
    }
}

/// The result of a handler that returns nothing.
struct NoResult: Encodable, Sendable {
    /// A handler's result as stored in `porter.jobs.result`: NULL for `NoResult`, else JSON.
    static func encode(_ result: some Encodable) throws -> PQJSON? {
        result is NoResult ? nil : try PQJSON(encoding: result)
    }
}
