import ArgumentParser
import Foundation

/// A span of time on the command line, `30s`, `15m`, `2h` or `7d`: `--older-than`, and
/// `--since` (which also takes an ISO 8601 time).
enum AgeFlag {
    /// Seconds per unit.
    private static let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
    /// At most 100 years, as `--run-at`'s delays: checked before multiplying, so no amount traps.
    private static let longest = 36_525 * 86_400

    /// Parses `30s`, `15m`, `2h`, `7d`.
    static func duration(_ text: String, flag: String) throws -> Duration {
        let digits = text.dropLast()
        guard let unit = text.last.flatMap({ units[$0] }), !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }) else {
            throw ValidationError("\(flag) \(text) is not a span of time; use a number and a unit, e.g. 30s, 15m, 2h or 7d.")
        }
        guard let amount = Int(digits), amount <= longest / unit else {
            throw ValidationError("\(flag) \(text) is too long; use at most 100 years (36525d).")
        }
        return .seconds(amount * unit)
    }

    /// Parses an ISO 8601 time, or a span (`2h`: two hours ago) measured from `now`.
    static func since(_ text: String, flag: String = "--since", now: Date = Date()) throws -> Date {
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date }
        }
        guard let span = try? duration(text, flag: flag) else {
            throw ValidationError(
                "\(flag) \(text) is neither an ISO 8601 time with a zone (2026-12-01T09:00:00Z) nor a span of time ago (30m, 2h, 7d).")
        }
        return now.addingTimeInterval(-span.seconds)
    }
}
