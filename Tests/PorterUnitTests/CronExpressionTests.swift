import Foundation
@testable import Porter
import Testing

@Suite struct CronExpressionTests {
    static let utc = TimeZone(identifier: "UTC")!
    static let newYork = TimeZone(identifier: "America/New_York")!
    static let berlin = TimeZone(identifier: "Europe/Berlin")!

    /// Every fire time between `start` and `end`, found by scanning every minute. Independent of
    /// `nextFire`: a minute fires when its wall-clock time matches and it is that time's first
    /// occurrence; a forward transition fires once when any skipped wall-clock minute matches.
    static func bruteForce(_ cron: CronExpression, zone: TimeZone, from start: Date, to end: Date) -> [Date] {
        var fires: [Date] = []
        var t = Int64(start.timeIntervalSince1970 / 60 + 1) * 60
        let stop = Int64(end.timeIntervalSince1970)
        var previousOffset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t - 60))))
        while t <= stop {
            let offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t))))
            let civil = CivilTime(epochMinute: CivilTime.floorDiv(t + offset, 60))
            var fires_ = false
            if offset > previousOffset {
                // Clocks jumped forward at t: the wall-clock minutes in between were skipped.
                let firstSkipped = CivilTime.floorDiv(t - 60 + previousOffset, 60) + 1
                for minute in firstSkipped..<civil.epochMinute where cron.matches(CivilTime(epochMinute: minute)) {
                    fires_ = true
                }
            }
            if cron.matches(civil) {
                // Only the first occurrence of a repeated wall-clock time fires.
                let earlierOffset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t - 4 * 3600))))
                let repeatGap = earlierOffset - offset
                let repeated = repeatGap > 0
                    && CivilTime(Date(timeIntervalSince1970: Double(t - repeatGap)), in: zone) == civil
                if !repeated { fires_ = true }
            }
            if fires_ { fires.append(Date(timeIntervalSince1970: Double(t))) }
            previousOffset = offset
            t += 60
        }
        return fires
    }

    static func walk(_ cron: CronExpression, zone: TimeZone, from start: Date, to end: Date) -> [Date] {
        var fires: [Date] = []
        var current = start
        while let next = cron.nextFire(after: current, in: zone), next <= end {
            fires.append(next)
            current = next
        }
        return fires
    }

    @Test(arguments: [
        ("30 2 * * *", "America/New_York"),  // 02:30 is skipped in March and repeated in November
        ("*/20 1-3 * MAR,NOV SUN", "America/New_York"),
        ("0 9-17/4 1,15 * MON-FRI", "Europe/Berlin"),  // day of month OR weekday
        ("15 18 * * 7", "UTC"),
        ("@monthly", "Europe/Berlin"),
    ])
    func nextFireAgreesWithAMinuteByMinuteScanOverTwoYears(_ expression: String, _ zoneName: String) throws {
        let cron = try CronExpression(expression)
        let zone = TimeZone(identifier: zoneName)!
        let start = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
        let end = start.addingTimeInterval(2 * 365 * 86_400)
        let expected = Self.bruteForce(cron, zone: zone, from: start, to: end)
        let walked = Self.walk(cron, zone: zone, from: start, to: end)
        #expect(!expected.isEmpty)
        if expression == "30 2 * * *" {
            // Once a day for 730 days, DST days included.
            #expect(expected.count == 730)
        }
        #expect(walked == expected, "first difference at \(zip(walked, expected).first { $0 != $1 }.map { "\($0) vs \($1)" } ?? "count \(walked.count) vs \(expected.count)")")
    }

    @Test func skippedHourFiresOnceAndRepeatedHourDoesNotFireTwice() throws {
        let cron = try CronExpression("30 2 * * *")
        // 2026-03-08: New York skips 02:00-03:00. The 02:30 run happens at 03:00 EDT (07:00Z).
        let spring = cron.nextFire(after: Date(timeIntervalSince1970: 1_772_949_600), in: Self.newYork)  // 2026-03-08T06:00Z
        #expect(spring == Date(timeIntervalSince1970: 1_772_953_200))  // 2026-03-08T07:00:00Z
        // 2026-11-01: 01:00-02:00 repeats; "30 1" fires at the first 01:30 (EDT) only.
        let fallback = try CronExpression("30 1 * * *")
        let first = fallback.nextFire(after: Date(timeIntervalSince1970: 1_793_505_600), in: Self.newYork)!  // 2026-11-01T02:00Z
        #expect(first == Date(timeIntervalSince1970: 1_793_511_000))  // 05:30Z = 01:30 EDT
        let next = fallback.nextFire(after: first, in: Self.newYork)!
        #expect(next.timeIntervalSince(first) > 86_400 - 1)  // the next day, not an hour later
    }

    @Test func namesMacrosListsRangesAndSteps() throws {
        let cron = try CronExpression("0 12 * jan-mar,dec sat,Sun")
        #expect(cron.months == [1, 2, 3, 12])
        #expect(cron.weekdays == [0, 6])
        let annually = try CronExpression("@annually")
        #expect(annually.minutes == [0] && annually.hours == [0] && annually.days == [1] && annually.months == [1])
        #expect(try CronExpression("5/15 * * * *").minutes == [5, 20, 35, 50])
        #expect(try CronExpression("*/6 * * * *").minutes == [0, 6, 12, 18, 24, 30, 36, 42, 48, 54])
        #expect(try CronExpression("0 0 * * 7").weekdays == [0])
    }

    @Test(arguments: [
        ("61 * * * *", "minute"), ("* 24 * * *", "hour"), ("* * 0 * *", "day-of-month"),
        ("* * * 13 *", "month"), ("* * * FOO *", "month"), ("* * * * 8", "day-of-week"),
        ("*/0 * * * *", "minute"), ("5-1 * * * *", "minute"), ("1,,2 * * * *", "minute"),
    ])
    func invalidFieldsAreNamedAndTheExpressionQuoted(_ expression: String, _ field: String) {
        let error = #expect(throws: CronError.self) { try CronExpression(expression) }
        #expect(error?.field == field)
        #expect(error?.description.contains("\"\(expression)\"") == true)
    }

    @Test func wrongFieldCountsAndUnknownMacrosAreRefused() throws {
        #expect(throws: CronError.self) { try CronExpression("* * * *") }
        #expect(throws: CronError.self) { try CronExpression("@fortnightly") }
        #expect(try CronExpression("0 0 30 2 *").nextFire(after: Date(), in: Self.utc) == nil)
    }
}
