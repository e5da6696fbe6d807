import Foundation

/// Formatting and parsing of timestamps in PostgreSQL's ISO text style, which is also how
/// `PQJSON` writes and reads dates.
///
/// Connections set `TimeZone` to UTC and `DateStyle` to ISO, so the server sends
/// `2026-11-25 03:34:09.123456+00`. Parsing by hand keeps it exact to the microsecond and fast.
enum PQTimestamp {
    /// `2026-11-25T03:34:09.123456Z`, rounded to `fractionDigits` digits of a second: 6,
    /// microseconds, for bind parameters, as `timestamptz` keeps; 3 for JSON. More than 6 would
    /// overflow `Int64` for far dates, and `timestamptz` would drop them anyway.
    ///
    /// A date no timestamp can hold comes out as PostgreSQL's words for it, which it refuses
    /// where a finite time is needed: `infinity` or `-infinity` beyond about 292,000 years
    /// from 1970 (where the count of units leaves `Int64`, and `timestamptz` ends too), `NaN`
    /// for a date that is not a number.
    static func format(_ date: Date, fractionDigits: Int = 6) -> String {
        precondition((1...6).contains(fractionDigits), "fractionDigits must be 1...6")
        var unit: Int64 = 1
        for _ in 0..<fractionDigits { unit *= 10 }
        let units = (date.timeIntervalSince1970 * Double(unit)).rounded()
        if units.isNaN { return "NaN" }
        // 2^63 is exactly representable; anything from it on would trap in `Int64(units)`.
        guard units > -0x1p63, units < 0x1p63 else { return units > 0 ? "infinity" : "-infinity" }
        let total = Int64(units)
        var seconds = total / unit
        var fraction = total % unit
        if fraction < 0 {
            fraction += unit
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = civil(fromDays: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        // PostgreSQL reads no year 0 and no minus sign: the year before 1 AD is 1 BC, and
        // "-100-12-31" read as a time zone.
        let era = year <= 0 ? " BC" : ""
        return "\(pad(year <= 0 ? 1 - year : year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(fraction, fractionDigits))Z\(era)"
    }

    static func parse(_ text: String) -> Date? {
        if text == "infinity" { return .distantFuture }
        if text == "-infinity" { return .distantPast }
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int64? {
            guard index + width <= bytes.count else { return nil }
            var value: Int64 = 0
            for _ in 0..<width {
                let byte = bytes[index]
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
                index += 1
            }
            return value
        }
        func expect(_ character: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == character else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2) else {
            return nil
        }
        var seconds = days(fromCivil: year, month, day) * 86_400
        var micros: Int64 = 0
        if index < bytes.count, bytes[index] == 32 || bytes[index] == 84 {  // ' ' or 'T'
            index += 1
            guard let hour = number(2), expect(58), let minute = number(2), expect(58), let second = number(2) else {
                return nil
            }
            seconds += hour * 3600 + minute * 60 + second
            if expect(46) {  // '.'
                var scale: Int64 = 100_000
                while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                    micros += Int64(bytes[index] - 48) * scale
                    scale /= 10
                    index += 1
                }
            }
        }
        if index < bytes.count {
            let sign: Int64
            switch bytes[index] {
            case 43: sign = 1  // '+'
            case 45: sign = -1  // '-'
            case 90: sign = 0  // 'Z'
            default: return nil
            }
            index += 1
            if sign != 0 {
                guard let hours = number(2) else { return nil }
                var offset = hours * 3600
                _ = expect(58)
                if let minutes = number(2) { offset += minutes * 60 }
                _ = expect(58)
                if let secs = number(2) { offset += secs }
                seconds -= sign * offset
            }
        }
        guard index == bytes.count else { return nil }
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        CivilCalendar.days(year: year, month: month, day: day)
    }

    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        CivilCalendar.date(fromDays: days)
    }
}
