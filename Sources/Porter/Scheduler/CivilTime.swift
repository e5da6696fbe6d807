import Foundation
import PorterPostgres

/// A wall-clock date and time to the minute, in some time zone, with no time zone attached.
struct CivilTime: Sendable, Hashable, Comparable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int

    /// 0 = Sunday.
    var weekday: Int {
        let days = Self.daysFromCivil(year, month, day)
        return Int((((days % 7) + 11) % 7))  // 1970-01-01 was a Thursday (4)
    }

    /// Minutes since 1970-01-01 00:00 of this wall-clock time, as if it were UTC.
    var epochMinute: Int64 {
        Self.daysFromCivil(year, month, day) * 1440 + Int64(hour * 60 + minute)
    }

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int) {
        (self.year, self.month, self.day, self.hour, self.minute) = (year, month, day, hour, minute)
    }

    init(epochMinute: Int64) {
        var days = epochMinute / 1440
        var minuteOfDay = epochMinute % 1440
        if minuteOfDay < 0 {
            minuteOfDay += 1440
            days -= 1
        }
        let (y, m, d) = Self.civilFromDays(days)
        self.init(year: y, month: m, day: d, hour: Int(minuteOfDay / 60), minute: Int(minuteOfDay % 60))
    }

    /// The wall-clock time of `instant` in `zone`.
    init(_ instant: Date, in zone: TimeZone) {
        let seconds = Int64(instant.timeIntervalSince1970.rounded(.down)) + Int64(zone.secondsFromGMT(for: instant))
        self.init(epochMinute: Self.floorDiv(seconds, 60))
    }

    static func < (a: CivilTime, b: CivilTime) -> Bool { a.epochMinute < b.epochMinute }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int64 {
        CivilCalendar.days(year: Int64(year), month: Int64(month), day: Int64(day))
    }

    static func civilFromDays(_ days: Int64) -> (Int, Int, Int) {
        let date = CivilCalendar.date(fromDays: days)
        return (Int(date.year), Int(date.month), Int(date.day))
    }
}
