import Foundation

/// Reads the config file's numbers against each key's allowed range, and shows a value in an
/// error as the file has it.
///
/// Every number a key takes passes through here before it becomes a `Duration`, an `Int` or a
/// SQL parameter. Out of range it would trap in that conversion or in arithmetic later (and a
/// trap in a worker loses the process and every job it holds), or come back from the database
/// as an error far from the key that caused it.
enum ConfigurationValue {
    /// A number of seconds within `range`, to the millisecond.
    static func seconds(_ value: Any, key: String, in range: ClosedRange<Double>) throws -> Duration {
        let expected = "a number of seconds from \(show(range.lowerBound)) to \(show(range.upperBound))\(span(range.upperBound))"
        guard let number = value as? NSNumber, !isJSONBoolean(value) else {
            throw ConfigurationError(key: key, message: "got \(describe(value)); use \(expected)")
        }
        let seconds = number.doubleValue
        // The comparisons are false for NaN, so it is refused with the rest.
        guard range.lowerBound <= seconds, seconds <= range.upperBound else {
            throw ConfigurationError(key: key, message: "\(describe(value)) is out of range; use \(expected)")
        }
        return .seconds(fraction: seconds)
    }

    /// A whole number within `range`; `unit` (such as "seconds") goes into the error.
    static func integer(_ value: Any, key: String, in range: ClosedRange<Int>, unit: String? = nil) throws -> Int {
        let expected = "a whole number\(unit.map { " of \($0)" } ?? "") from \(range.lowerBound) to \(range.upperBound)"
        guard let number = value as? NSNumber, !isJSONBoolean(value) else {
            throw ConfigurationError(key: key, message: "got \(describe(value)); use \(expected)")
        }
        let whole: Int?
        switch String(cString: number.objCType) {
        case "d", "f":
            // Fractions, and integers too long for Int64, which JSONSerialization reads as
            // doubles or decimals; `intValue` would wrap them around to any value at all.
            let double = number.doubleValue
            guard double.isFinite, double == double.rounded() else {
                throw ConfigurationError(key: key, message: "\(describe(value)) is not a whole number; use \(expected)")
            }
            whole = Int(exactly: double)
        case "Q":
            whole = Int(exactly: number.uint64Value)
        default:
            whole = Int(exactly: number.int64Value)
        }
        guard let whole, range.contains(whole) else {
            throw ConfigurationError(key: key, message: "\(describe(value)) is out of range; use \(expected)")
        }
        return whole
    }

    /// A JSON value as an error shows it: `the string "5000"`, `true`, `null`, `1e+300`, so
    /// that a quoted number is not mistaken for the number.
    static func describe(_ value: Any) -> String {
        switch value {
        case let text as String: "the string \"\(text)\""
        case _ where isJSONBoolean(value): (value as? Bool) == true ? "true" : "false"
        case let number as NSNumber: "\(number)"
        case is NSNull: "null"
        case is [Any]: "a list"
        case is [String: Any]: "an object"
        default: "\(value)"
        }
    }

    /// A bound as the config file would write it: `86400`, not `86400.0`.
    private static func show(_ seconds: Double) -> String {
        seconds == seconds.rounded() && abs(seconds) < 1e15 ? String(Int(seconds)) : "\(seconds)"
    }

    /// The upper bound in days or hours, for a bound of an hour or more: ` (30 days)`.
    private static func span(_ seconds: Double) -> String {
        if seconds >= 86_400, seconds.truncatingRemainder(dividingBy: 86_400) == 0 {
            let days = Int(seconds / 86_400)
            return days == 1 ? " (1 day)" : " (\(days) days)"
        }
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 {
            let hours = Int(seconds / 3600)
            return hours == 1 ? " (1 hour)" : " (\(hours) hours)"
        }
        return ""
    }
}
