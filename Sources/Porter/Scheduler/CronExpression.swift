import Foundation

/// A standard five-field cron expression: minute, hour, day of month, month, day of week.
///
/// Fields take `*`, numbers, lists (`1,15`), ranges (`9-17`), steps (`*/6`, `10-50/20`), month
/// names (`JAN`–`DEC`) and weekday names (`SUN`–`SAT`; 0 and 7 are both Sunday). The macros
/// `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly` and `@annually` stand for their usual
/// expressions. As in Vixie cron, when both day of month and day of week are restricted, a day
/// matching either one matches.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The text it was parsed from.
    public let text: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>  // 0 = Sunday
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    public var description: String { text }

    static let macros = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let weekdayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    /// Parses `text`; a bad expression throws an error that quotes it and names the field.
    public init(_ text: String) throws {
        self.text = text
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let expanded: String
        if trimmed.hasPrefix("@") {
            guard let macro = Self.macros[trimmed.lowercased()] else {
                throw CronError(expression: text, field: nil, message: "unknown macro; use @hourly, @daily, @weekly, @monthly, @yearly or @annually")
            }
            expanded = macro
        } else {
            expanded = trimmed
        }
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw CronError(
                expression: text, field: nil,
                message: "has \(fields.count) fields; cron needs 5: minute hour day-of-month month day-of-week")
        }
        minutes = try Self.parse(fields[0], name: "minute", range: 0...59, names: [], expression: text)
        hours = try Self.parse(fields[1], name: "hour", range: 0...23, names: [], expression: text)
        days = try Self.parse(fields[2], name: "day-of-month", range: 1...31, names: [], expression: text)
        months = try Self.parse(fields[3], name: "month", range: 1...12, names: Self.monthNames, expression: text)
        let weekdays = try Self.parse(fields[4], name: "day-of-week", range: 0...7, names: Self.weekdayNames, expression: text)
        self.weekdays = Set(weekdays.map { $0 % 7 })
        daysRestricted = fields[2] != "*" && !fields[2].hasPrefix("*/")
        weekdaysRestricted = fields[4] != "*" && !fields[4].hasPrefix("*/")
    }

    /// Whether a civil date and time (in the schedule's time zone) matches.
    func matches(_ time: CivilTime) -> Bool {
        guard minutes.contains(time.minute), hours.contains(time.hour), months.contains(time.month) else {
            return false
        }
        return matchesDay(time)
    }

    func matchesDay(_ time: CivilTime) -> Bool {
        let dayMatch = days.contains(time.day)
        let weekdayMatch = weekdays.contains(time.weekday)
        if daysRestricted && weekdaysRestricted { return dayMatch || weekdayMatch }
        return dayMatch && weekdayMatch
    }

    private static func parse(_ field: String, name: String, range: ClosedRange<Int>, names: [String], expression: String) throws -> Set<Int> {
        func fail(_ message: String) -> CronError {
            CronError(expression: expression, field: name, message: message)
        }
        func value(_ text: String) throws -> Int {
            if let number = Int(text) {
                guard range.contains(number) else { throw fail("\(number) is outside \(range.lowerBound)-\(range.upperBound)") }
                return number
            }
            if let index = names.firstIndex(of: text.uppercased()) {
                return names.count == 12 ? index + 1 : index
            }
            throw fail("\"\(text)\" is not a number\(names.isEmpty ? "" : " or a name (\(names.joined(separator: ",")))")")
        }
        var result = Set<Int>()
        for part in field.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard !part.isEmpty else { throw fail("has an empty list item") }
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard pieces.count <= 2 else { throw fail("\"\(part)\" has more than one step") }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else { throw fail("step \"\(pieces[1])\" must be a positive number") }
                step = parsed
            }
            let base = pieces[0]
            var low: Int
            var high: Int
            if base == "*" {
                (low, high) = (range.lowerBound, range.upperBound)
            } else if let dash = base.firstIndex(of: "-") {
                low = try value(String(base[..<dash]))
                high = try value(String(base[base.index(after: dash)...]))
                guard low <= high else { throw fail("range \"\(base)\" runs backwards") }
            } else {
                low = try value(base)
                // `5/15` means from 5 to the end in steps of 15.
                high = pieces.count == 2 ? range.upperBound : low
            }
            var current = low
            while current <= high {
                result.insert(current)
                // A step beyond the range ends it; `current += step` would overflow for a step
                // near Int.max.
                guard high - current >= step else { break }
                current += step
            }
        }
        return result
    }
}

/// A cron expression that does not parse: the expression, the field at fault, and why.
public struct CronError: Error, Sendable, Hashable, CustomStringConvertible {
    public var expression: String
    public var field: String?
    public var message: String
    public var description: String {
        if let field { return "cron expression \"\(expression)\": \(field) field \(message)" }
        return "cron expression \"\(expression)\" \(message)"
    }
}
