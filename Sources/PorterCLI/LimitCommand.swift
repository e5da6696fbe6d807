import ArgumentParser
import Foundation
import Porter

/// `porter limit set|clear|list`: the flow-control limits every worker holds to.
struct LimitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limit",
        abstract: "Set, clear and list flow-control limits: concurrency, rate and fair share per queue or key.",
        discussion: """
            Limits are rows in the database (porter.set_limit, porter.limits), held by every worker \
            on every host. A job is counted against its queue's limit and, with --limit-key at \
            enqueue, against its key's own limit or the queue's --each-key limit.
            """,
        subcommands: [SetLimit.self, ClearLimit.self, ListLimits.self])

    /// `porter limit set QUEUE`.
    struct SetLimit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set the limits of a queue, of one of its keys (--key) or of each of its keys (--each-key).",
            discussion: "Replaces the scope's limits: a limit not given is no limit. Example: porter limit set stock --each-key --max-running 1")

        @Argument(help: "The queue.")
        var queue: String

        @Option(name: [.customLong("key"), .customLong("limit-key")], help: "Limit this key's jobs, e.g. franchise:42 (the jobs' --limit-key).")
        var key: String?

        @Flag(name: .customLong("each-key"), help: "Limit each key of the queue that has no limit of its own, apart.")
        var eachKey = false

        @Option(name: .customLong("max-running"), help: "At most this many running at once, \(LimitCommand.maxRunningRange.text).")
        var maxRunning: Int?

        @Option(name: .customLong("max-starts"), help: "At most this many starts in any window of --per, \(LimitCommand.maxStartsRange.text).")
        var maxStarts: Int?

        @Option(help: "The window of --max-starts: seconds, or a number with s, m, h or d, e.g. 1m.")
        var per: String?

        @Flag(help: "Claims take turns among the queue's keys.")
        var fair = false

        @OptionGroup var connection: ConnectionOptions

        func validate() throws {
            if key != nil && eachKey {
                throw ValidationError("Pass --key or --each-key, not both: --key limits one key, --each-key every key without a limit of its own.")
            }
            try LimitCommand.maxRunningRange.check(maxRunning)
            try LimitCommand.maxStartsRange.check(maxStarts)
            if (maxStarts == nil) != (per == nil) {
                throw ValidationError("--max-starts and --per go together, e.g. --max-starts 100 --per 1m.")
            }
            if let per { _ = try LimitCommand.seconds(per, flag: "--per") }
            if maxRunning == nil && maxStarts == nil && !fair {
                throw ValidationError("Give --max-running, --max-starts with --per, or --fair; `porter limit clear` removes a limit.")
            }
        }

        func run() async throws {
            let limit = QueueLimit(
                queue: queue, limitKey: key, eachKey: eachKey, maxRunning: maxRunning, maxStarts: maxStarts,
                perSeconds: try per.map { try LimitCommand.seconds($0, flag: "--per") }, fair: fair)
            let porter = try connection.makeClient(maximumConnections: 1)
            do {
                try await porter.setLimit(limit)
                await porter.close()
            } catch {
                await porter.close()
                throw error
            }
            print("limit set: \(LimitCommand.describe(limit))")
        }
    }

    /// `porter limit clear QUEUE`.
    struct ClearLimit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "clear", abstract: "Remove the limits of a queue, of one of its keys or of each key.")

        @Argument(help: "The queue.")
        var queue: String

        @Option(name: [.customLong("key"), .customLong("limit-key")], help: "The key whose own limit to remove.")
        var key: String?

        @Flag(name: .customLong("each-key"), help: "Remove the limit for each key.")
        var eachKey = false

        @OptionGroup var connection: ConnectionOptions

        func validate() throws {
            if key != nil && eachKey { throw ValidationError("Pass --key or --each-key, not both.") }
        }

        func run() async throws {
            let porter = try connection.makeClient(maximumConnections: 1)
            let removed: Bool
            do {
                removed = try await porter.clearLimit(queue: queue, limitKey: key, eachKey: eachKey)
                await porter.close()
            } catch {
                await porter.close()
                throw error
            }
            let scope = key.map { "key \($0) of queue \(queue)" } ?? (eachKey ? "each key of queue \(queue)" : "queue \(queue)")
            print(removed ? "limit cleared: \(scope)" : "no limit to clear: \(scope)")
        }
    }

    /// `porter limit list`.
    struct ListLimits: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List every limit (porter.limits).")

        @Flag(help: "Print a JSON array of the limits.")
        var json = false

        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let porter = try connection.makeClient(maximumConnections: 1)
            let limits: [QueueLimit]
            do {
                limits = try await porter.limits()
                await porter.close()
            } catch {
                await porter.close()
                throw error
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(limits), as: UTF8.self))
                return
            }
            guard !limits.isEmpty else {
                print("no limits; `porter limit set QUEUE --max-running N` sets one")
                return
            }
            for limit in limits { print(LimitCommand.describe(limit)) }
        }
    }

    /// The counts a limit takes: those of an `integer` column.
    static let maxRunningRange = FlagRange("--max-running", 1...Int(Int32.max))
    /// The same for `--max-starts`.
    static let maxStartsRange = FlagRange("--max-starts", 1...Int(Int32.max))

    /// The longest span `--per` and `--debounce` take: 100 years, as `--run-at`'s delay.
    static let longestWindow = Double(EnqueueCommand.longestDelay)

    /// A span flag (`--per`, `--debounce`) in seconds: `90`, `1.5`, `30s`, `5m`, `2h`, `1d`;
    /// positive and at most 100 years.
    static func seconds(_ text: String, flag: String) throws -> Double {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var number = Substring(text)
        var unit = 1.0
        if let last = text.last, let factor = units[last] {
            number = text.dropLast()
            unit = factor
        }
        guard let amount = Double(number), amount.isFinite, amount > 0, amount * unit <= longestWindow else {
            throw ValidationError("\(flag) \(text) is not a span of time; use a positive number of seconds, or 30s, 5m, 2h, 1d (at most 100 years).")
        }
        return amount * unit
    }

    /// One limit in a line: `stock  each key  max_running=1`.
    static func describe(_ limit: QueueLimit) -> String {
        var parts = ["queue \(limit.queue)"]
        if let key = limit.limitKey { parts.append("key \(key)") } else if limit.eachKey { parts.append("each key") }
        if let maxRunning = limit.maxRunning { parts.append("max_running=\(maxRunning)") }
        if let maxStarts = limit.maxStarts, let per = limit.perSeconds {
            parts.append("max_starts=\(maxStarts) per \(String(format: "%g", per))s")
        }
        if limit.fair { parts.append("fair") }
        return parts.joined(separator: "  ")
    }
}
