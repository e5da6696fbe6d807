import PorterPostgres

/// One job to enqueue: a method, its JSON arguments and the options. `enqueueMany` takes a
/// batch of these.
public struct EnqueueRequest: Sendable, Hashable {
    /// The method workers dispatch on.
    public var method: String
    /// The arguments, a JSON object.
    public var args: PQJSON
    /// How to enqueue it: queue, job_id, deduplication, timing, priority, dependencies.
    public var options: EnqueueOptions

    /// A request by method name and raw JSON arguments.
    public init(method: String, args: PQJSON = PQJSON(text: "{}"), options: EnqueueOptions = .init()) {
        self.method = method
        self.args = args
        self.options = options
    }

    /// A request for a typed job; its properties become the arguments.
    public init<J: Job>(_ job: J, options: EnqueueOptions = .init()) throws {
        self.init(method: J.method, args: try PQJSON(encoding: job), options: options)
    }

    /// The request as one element of `porter.enqueue_many`'s JSON array.
    var jsonElement: [String: JSONElementValue] {
        var element: [String: JSONElementValue] = [
            "method": .string(method),
            "args": .raw(args.text),
            "queue": .string(options.queue),
            "deduplicate": .bool(options.deduplicate),
            "at_front": .bool(options.atFront),
            "priority": .int(options.priority),
        ]
        if let jobID = options.jobID { element["job_id"] = .string(jobID) }
        if let timeout = options.timeout { element["timeout"] = .int(timeout) }
        if let maxAttempts = options.maxAttempts { element["max_attempts"] = .int(maxAttempts) }
        if let runAt = options.runAt { element["run_at"] = .string(runAt.postgresText ?? "") }
        if let delay = options.delaySeconds { element["delay"] = .double(delay) }
        if !options.dependsOn.isEmpty {
            element["depends_on"] = .raw("[" + options.dependsOn.map(String.init).joined(separator: ",") + "]")
        }
        return element
    }
}
