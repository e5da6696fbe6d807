import Foundation

/// What the scheduler fires, read from the worker's config file under Frappe's keys:
///
/// ```json
/// {"scheduler_tick_interval": 60, "scheduler_timezone": "UTC",
///  "scheduler_events": {"all": ["app.tasks.poll_inbox"], "daily_long": ["app.tasks.rebuild"],
///                       "cron": {"15 18 * * *": ["app.tasks.evening_report"]}}}
/// ```
public struct ScheduleConfiguration: Sendable {
    /// How often the scheduler wakes, and the period of `all`. Key `scheduler_tick_interval`
    /// (seconds). Default: 60 s; 0.1 s to 1 day.
    public var tickInterval: Duration
    /// The zone cron and the named events read wall-clock time in. Key `scheduler_timezone`.
    /// Default: UTC.
    public var timeZone: TimeZone
    /// Every (event, method).
    public private(set) var events: [ScheduledEvent] = []

    /// The named events and their cron equivalents; `_long` variants run on the `long` queue.
    static let namedEvents: [String: String] = [
        "hourly": "0 * * * *", "daily": "0 0 * * *", "weekly": "0 0 * * 0", "monthly": "0 0 1 * *",
        "yearly": "0 0 1 1 *",
    ]
    static let eventKeys = ["all", "hourly", "daily", "weekly", "monthly", "yearly", "annual",
                            "hourly_long", "daily_long", "weekly_long", "monthly_long", "cron"]

    /// A schedule with nothing in it yet: a tick each `tickInterval` (default 60 s), wall-clock
    /// times read in `timeZone` (default UTC). Add events with `add`.
    public init(tickInterval: Duration = .seconds(60), timeZone: TimeZone = TimeZone(identifier: "UTC")!) {
        self.tickInterval = tickInterval
        self.timeZone = timeZone
    }

    /// Adds `method` to a named event: `all`, `hourly`, `daily`, `weekly`, `monthly`, `yearly`
    /// (or `annual`), or a `_long` variant.
    public mutating func add(_ event: String, method: String) throws {
        guard !method.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ConfigurationError(key: "scheduler_events.\(event)", message: "a method name must not be empty")
        }
        var name = event == "annual" ? "yearly" : event
        var queue = "default"
        if name.hasSuffix("_long") {
            name = String(name.dropLast(5))
            queue = "long"
        }
        let storedName = queue == "long" ? name + "_long" : name
        if name == "all" && queue == "default" {
            events.append(ScheduledEvent(name: "all", timing: .everyTick, method: method, queue: queue))
        } else if let cron = Self.namedEvents[name], event != "yearly_long" {
            events.append(ScheduledEvent(name: storedName, timing: .cron(try CronExpression(cron)), method: method, queue: queue))
        } else {
            throw ConfigurationError(key: "scheduler_events.\(event)", message: "unknown event\(Self.suggestion(for: event))")
        }
    }

    /// Adds `method` on a cron schedule (`15 18 * * *`, `@daily`, ...).
    public mutating func add(cron expression: String, method: String, queue: String = "default") throws {
        guard !method.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ConfigurationError(key: "scheduler_events.cron.\(expression)", message: "a method name must not be empty")
        }
        let cron = try CronExpression(expression)
        guard cron.nextFire(after: Date(), in: timeZone) != nil else {
            throw ConfigurationError(
                key: "scheduler_events.cron.\(expression)",
                message: "cron expression \"\(expression)\" never fires (no such date in the next five years)")
        }
        events.append(ScheduledEvent(name: "cron:\(expression)", timing: .cron(cron), method: method, queue: queue))
    }

    /// Reads the scheduler keys of a config file; other keys belong to the worker.
    public static func parse(_ data: Data) throws -> ScheduleConfiguration {
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ConfigurationError(key: nil, message: "the config is not a valid JSON object")
        }
        var configuration = ScheduleConfiguration()
        if let value = root["scheduler_tick_interval"] {
            // At most a day: `all` fires every tick, and the named events cover longer periods.
            configuration.tickInterval = try ConfigurationValue.seconds(value, key: "scheduler_tick_interval", in: 0.1...86_400)
        }
        if let value = root["scheduler_timezone"] {
            guard let name = value as? String, let zone = TimeZone(identifier: name) else {
                throw ConfigurationError(key: "scheduler_timezone", message: "must be an IANA time zone such as \"Asia/Kolkata\" or \"UTC\", got \(value)")
            }
            configuration.timeZone = zone
        }
        guard let value = root["scheduler_events"] else { return configuration }
        guard let events = value as? [String: Any] else {
            throw ConfigurationError(key: "scheduler_events", message: "must be an object such as {\"daily\": [\"app.tasks.cleanup\"]}")
        }
        for (event, methods) in events.sorted(by: { $0.key < $1.key }) {
            if event == "cron" {
                guard let crons = methods as? [String: Any] else {
                    throw ConfigurationError(key: "scheduler_events.cron", message: "must be an object of cron expressions to method lists, e.g. {\"15 18 * * *\": [\"app.tasks.report\"]}")
                }
                for (expression, list) in crons.sorted(by: { $0.key < $1.key }) {
                    for method in try methodList(list, key: "scheduler_events.cron.\(expression)") {
                        do {
                            try configuration.add(cron: expression, method: method)
                        } catch let error as CronError {
                            throw ConfigurationError(key: "scheduler_events.cron", message: error.description)
                        }
                    }
                }
                continue
            }
            guard eventKeys.contains(event) else {
                throw ConfigurationError(key: "scheduler_events.\(event)", message: "unknown event\(suggestion(for: event))")
            }
            for method in try methodList(methods, key: "scheduler_events.\(event)") {
                try configuration.add(event, method: method)
            }
        }
        return configuration
    }

    private static func methodList(_ value: Any, key: String) throws -> [String] {
        guard let methods = value as? [String] else {
            throw ConfigurationError(key: key, message: "must be a list of method names, e.g. [\"app.tasks.cleanup\"]")
        }
        return methods
    }

    private static func suggestion(for key: String) -> String {
        let close = eventKeys.filter { $0.hasPrefix(String(key.prefix(3))) }
        if let best = close.first { return "; did you mean \(best)? Events are \(eventKeys.joined(separator: ", "))" }
        return "; events are \(eventKeys.joined(separator: ", "))"
    }
}
