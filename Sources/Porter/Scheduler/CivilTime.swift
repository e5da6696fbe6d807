import Foundation

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

    static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * Int64(month + (month > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (Int(month <= 2 ? yoe + era * 400 + 1 : yoe + era * 400), Int(month), Int(day))
    }
}
