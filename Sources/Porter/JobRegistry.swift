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
    public typealias Handler = @Sendable (PostgresJSON, JobContext) async throws -> PostgresJSON?

    private var handlers: [String: Handler] = [:]

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
    /// `porter.jobs.result` as JSON.
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
            let result = try await handler(job, context)
            if result is NoResult { return nil }
            return try PostgresJSON(encoding: result)
        }
    }

    /// Registers a handler by method name that takes the raw JSON arguments.
    public mutating func register(method: String, _ handler: @escaping Handler) {
        handlers[method] = handler
    }

    /// The handler for `method`, if one is registered.
    public func handler(for method: String) -> Handler? {
        handlers[method]
    }

    /// Every registered method, sorted.
    public var methods: [String] { handlers.keys.sorted() }

    /// The handler for `method`, or an `unknownMethod` error that says how to register it.
    func requireHandler(for method: String) throws -> Handler {
        guard let handler = handlers[method] else {
            throw PorterError(
                code: .unknownMethod(method),
                message: "no handler is registered for method \(method); register it with registry.register(...) (registered: \(methods.joined(separator: ", ")))")
        }
        return handler
    }
}

/// The result of a handler that returns nothing.
struct NoResult: Encodable, Sendable {}
