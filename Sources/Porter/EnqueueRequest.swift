import PorterPostgres

/// One job to enqueue: a method, its JSON arguments and the options. `enqueueMany` takes a
/// batch of these.
public struct EnqueueRequest: Sendable, Hashable {
    /// The method workers dispatch on.
    public var method: String
    /// The arguments, a JSON object.
    public var args: PostgresJSON
    public var options: EnqueueOptions

    /// A request by method name and raw JSON arguments.
    public init(method: String, args: PostgresJSON = PostgresJSON(text: "{}"), options: EnqueueOptions = .init()) {
        self.method = method
        self.args = args
        self.options = options
    }

    /// A request for a typed job; its properties become the arguments.
    public init<J: Job>(_ job: J, options: EnqueueOptions = .init()) throws {
        self.init(method: J.method, args: try PostgresJSON(encoding: job), options: options)
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
        return element
    }
}

/// A value in the batch JSON that `enqueueMany` builds by hand: args are spliced in as the
/// JSON text they already are, without decoding and re-encoding them.
enum JSONElementValue: Sendable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case raw(String)

    func write(to output: inout String) {
        switch self {
        case .string(let value): JSONElementValue.writeString(value, to: &output)
        case .int(let value): output += String(value)
        case .double(let value): output += value.isFinite ? "\(value)" : "0"
        case .bool(let value): output += value ? "true" : "false"
        case .raw(let value): output += value
        }
    }

    static func writeString(_ value: String, to output: inout String) {
        output += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case let s where s.value < 0x20:
                let hex = String(s.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }

    /// A JSON array of request objects.
    static func array(_ requests: [EnqueueRequest]) -> String {
        var output = "["
        for (index, request) in requests.enumerated() {
            if index > 0 { output += "," }
            output += "{"
            for (position, (key, value)) in request.jsonElement.sorted(by: { $0.key < $1.key }).enumerated() {
                if position > 0 { output += "," }
                writeString(key, to: &output)
                output += ":"
                value.write(to: &output)
            }
            output += "}"
        }
        return output + "]"
    }
}
