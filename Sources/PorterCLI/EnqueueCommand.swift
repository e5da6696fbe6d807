import ArgumentParser
import Foundation
import Porter
import PorterPostgres

/// `porter enqueue METHOD`: enqueues one job and prints its id.
struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Enqueue a job and print its id.",
        discussion: "Prints nothing on stdout (and a note on stderr) when --deduplicate finds an active job with the same --job-id.")

    @Argument(help: "The method to run, e.g. app.tasks.sync_stock or sql:app.refresh_totals.")
    var method: String

    @Option(help: "Arguments as a JSON object, e.g. '{\"outlet\": \"A1\"}'.")
    var args: String = "{}"

    @Option(help: "The queue: short, default, long or one from your config.")
    var queue: String = "default"

    @Option(name: .customLong("job-id"), help: "A key naming the work, for deduplication.")
    var jobID: String?

    @Flag(help: "With --job-id: enqueue nothing when an active job has the same key.")
    var deduplicate = false

    @Flag(name: .customLong("at-front"), help: "Run ahead of every job not at the front.")
    var atFront = false

    @Option(help: "Seconds the job may run, \(EnqueueCommand.timeoutRange.text). Default: the queue's timeout.")
    var timeout: Int?

    @Option(help: "Lower runs first, \(EnqueueCommand.priorityRange.text).")
    var priority: Int = 0

    @Option(
        name: .customLong("max-attempts"),
        help: "Attempts before failing for good, \(EnqueueCommand.maxAttemptsRange.text). Default: the queue's (1).")
    var maxAttempts: Int?

    @Option(
        name: .customLong("run-at"),
        help: """
            Run no earlier than TIME: an ISO 8601 time (2026-12-01T09:00:00Z) or a delay of at most 100 years \
            such as +30s, +5m, +2h, +1d.
            """)
    var runAt: String?

    @Option(
        name: .customLong("depends-on"),
        help: "Comma-separated ids of jobs that must finish first, e.g. 41,42. The job waits as deferred.")
    var dependsOn: String?

    @Option(
        name: .customLong("limit-key"),
        help: "The key the queue's limits count this job by, e.g. franchise:42 (see porter limit set).")
    var limitKey: String?

    @Option(help: "With --job-id: while that job waits, enqueueing again replaces its args and delays it by this long (seconds, or 30s, 5m, 2h, 1d).")
    var debounce: String?

    @Option(
        name: .customLong("debounce-max"),
        help: "With --debounce: never delay the job past its first enqueue plus this long.")
    var debounceMax: String?

    @Option(help: "The W3C traceparent of the span this job continues, so the worker's span joins its trace, e.g. 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.")
    var traceparent: String?

    @Option(help: "With --traceparent: the W3C tracestate that came with it, at most 512 bytes.")
    var tracestate: String?

    @OptionGroup var connection: ConnectionOptions

    // The job's numbers go into `integer` columns; out of their range the server would refuse
    // them with an error that names no flag.
    static let timeoutRange = FlagRange("--timeout", EnqueueOptions.timeoutRange, of: "a whole number of seconds")
    static let priorityRange = FlagRange("--priority", EnqueueOptions.priorityRange)
    static let maxAttemptsRange = FlagRange("--max-attempts", EnqueueOptions.maxAttemptsRange)

    /// `--depends-on` as ids.
    var parentIDs: [Int64] {
        get throws {
            guard let dependsOn else { return [] }
            return try dependsOn.split(separator: ",").map { part in
                guard let id = Int64(part.trimmingCharacters(in: .whitespaces)), id >= 1 else {
                    throw ValidationError("--depends-on takes job ids separated by commas, such as 41,42; got \(dependsOn).")
                }
                return id
            }
        }
    }

    func validate() throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(args.utf8), options: [.fragmentsAllowed]) else {
            throw ValidationError("--args is not valid JSON: \(args). Pass a JSON object such as '{\"outlet\": \"A1\"}'.")
        }
        guard object is [String: Any] else {
            throw ValidationError("--args must be a JSON object of named arguments, such as '{\"outlet\": \"A1\"}'; got \(args).")
        }
        if deduplicate && jobID == nil {
            throw ValidationError("--deduplicate needs --job-id naming the work to deduplicate.")
        }
        try Self.timeoutRange.check(timeout)
        try Self.priorityRange.check(priority)
        try Self.maxAttemptsRange.check(maxAttempts)
        if let runAt { _ = try Self.parseRunAt(runAt) }
        _ = try parentIDs
        if debounce != nil && jobID == nil {
            throw ValidationError("--debounce needs --job-id naming the work whose enqueues are merged, e.g. --job-id reindex:42.")
        }
        if debounceMax != nil && debounce == nil {
            throw ValidationError("--debounce-max needs --debounce, e.g. --debounce 5s --debounce-max 1m.")
        }
        let wait = try debounce.map { try LimitCommand.seconds($0, flag: "--debounce") }
        let cap = try debounceMax.map { try LimitCommand.seconds($0, flag: "--debounce-max") }
        if let wait, let cap, cap < wait {
            throw ValidationError("--debounce-max \(debounceMax ?? "") is below --debounce \(debounce ?? ""); it caps the delay, so give at least as much.")
        }
        do {
            try TraceHeaders.check(traceparent: traceparent, tracestate: tracestate)
        } catch {
            var flag = "--traceparent"
            if case .invalidArgument(let parameter) = error.code { flag = "--\(parameter)" }
            throw ValidationError("\(flag): \(error.message)")
        }
    }

    func run() async throws {
        var options = EnqueueOptions(
            queue: queue, timeout: timeout, jobID: jobID, deduplicate: deduplicate, atFront: atFront,
            priority: priority, maxAttempts: maxAttempts, dependsOn: try parentIDs, limitKey: limitKey,
            debounce: try debounce.map { .seconds(try LimitCommand.seconds($0, flag: "--debounce")) },
            debounceMax: try debounceMax.map { .seconds(try LimitCommand.seconds($0, flag: "--debounce-max")) },
            traceparent: traceparent, tracestate: tracestate)
        switch try runAt.map(Self.parseRunAt) {
        case .time(let date): options.runAt = date
        case .delay(let delay): options.delay = delay
        case nil: break
        }
        let porter = try connection.makeClient(maximumConnections: 1)
        let result: EnqueueResult
        do {
            result = try await porter.enqueue(method: method, args: PQJSON(text: args), options: options)
            await porter.close()
        } catch let error as PorterError {
            await porter.close()
            throw Self.forCommandLine(error)
        } catch {
            await porter.close()
            throw error
        }
        switch result {
        case .enqueued(let id):
            print(id)
        case .duplicate(let jobID):
            FileHandle.standardError.write(Data("not enqueued: job_id \(jobID) is already queued or running\n".utf8))
        case .ranInline:
            break
        }
    }

    /// The error with its fix in this command's words: the server's hint names SQL's
    /// `deduplicate => true`, which a shell user spells `--deduplicate`.
    static func forCommandLine(_ error: PorterError) -> any Error {
        guard case .duplicateJob(let jobID) = error.code else { return error }
        return CommandFailure(
            message: "job_id \(jobID) is already queued or running; add --deduplicate to enqueue nothing when it is, or wait until the active job ends [SQLSTATE \(error.sqlState?.rawValue ?? "23505")]")
    }

    enum RunAt: Equatable {
        case time(Date)
        case delay(Duration)
    }

    /// The longest delay `--run-at` takes, in seconds: 100 years of 365.25 days. Far enough
    /// for any schedule, and the amount is checked against it before it is multiplied into
    /// seconds, which overflowed (a trap) for amounts such as +99999999999999999d.
    static let longestDelay = 36_525 * 86_400

    /// Seconds per unit of a `--run-at` delay.
    private static let delayUnits: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]

    /// Parses `+30s`, `+5m`, `+2h`, `+1d` (at most 100 years) or an ISO 8601 time.
    static func parseRunAt(_ text: String) throws -> RunAt {
        let digits = text.dropFirst().dropLast()
        if text.hasPrefix("+"), let unit = text.last.flatMap({ delayUnits[$0] }), !digits.isEmpty,
            digits.allSatisfy({ ("0"..."9").contains($0) })
        {
            // Digits too many for an Int are too far ahead as well.
            guard let amount = Int(digits), amount <= longestDelay / unit else {
                throw ValidationError(
                    "--run-at \(text) is too far ahead; use a delay of at most 100 years (+36525d, +876600h, +52596000m, "
                        + "+3155760000s) or an ISO 8601 time.")
            }
            return .delay(.seconds(amount * unit))
        }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime],
        ] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return .time(date) }
        }
        throw ValidationError(
            "--run-at \(text) is neither an ISO 8601 time with a zone (2026-12-01T09:00:00Z) nor a delay (+30s, +5m, +2h, +1d).")
    }
}
