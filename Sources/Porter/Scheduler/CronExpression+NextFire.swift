import Foundation

extension CronExpression {
    /// The first fire time strictly after `instant`, with wall-clock times read in `zone`, or
    /// `nil` if it never fires in the next five years (e.g. `0 0 30 2 *`).
    ///
    /// Daylight-saving rule: a wall-clock time that does not exist (the hour skipped in
    /// spring) fires once, at the instant the clocks jump; a wall-clock time that happens twice
    /// (the hour repeated in autumn) fires only the first time.
    public func nextFire(after instant: Date, in zone: TimeZone) -> Date? {
        var time = CivilTime(epochMinute: CivilTime(instant, in: zone).epochMinute + 1)
        let limit = time.year + 5
        while time.year <= limit {
            if !months.contains(time.month) {
                time = CivilTime(year: time.month == 12 ? time.year + 1 : time.year, month: time.month % 12 + 1, day: 1, hour: 0, minute: 0)
                continue
            }
            if !matchesDay(time) {
                time = CivilTime(epochMinute: CivilTime(year: time.year, month: time.month, day: time.day, hour: 0, minute: 0).epochMinute + 1440)
                continue
            }
            if !hours.contains(time.hour) {
                time = CivilTime(epochMinute: CivilTime(year: time.year, month: time.month, day: time.day, hour: time.hour, minute: 0).epochMinute + 60)
                continue
            }
            if !minutes.contains(time.minute) {
                time = CivilTime(epochMinute: time.epochMinute + 1)
                continue
            }
            let fire = Self.instant(of: time, in: zone)
            if fire > instant { return fire }
            time = CivilTime(epochMinute: time.epochMinute + 1)
        }
        return nil
    }

    /// When a wall-clock time happens in `zone`: its first occurrence, or for a time skipped by
    /// a transition, the instant of that transition.
    static func instant(of time: CivilTime, in zone: TimeZone) -> Date {
        let asUTC = Double(time.epochMinute * 60)
        let offsetBefore = zone.secondsFromGMT(for: Date(timeIntervalSince1970: asUTC - 86_400))
        let offsetAfter = zone.secondsFromGMT(for: Date(timeIntervalSince1970: asUTC + 86_400))
        let candidates = Set([offsetBefore, offsetAfter]).compactMap { offset -> Date? in
            let candidate = Date(timeIntervalSince1970: asUTC - Double(offset))
            return zone.secondsFromGMT(for: candidate) == offset ? candidate : nil
        }
        if let first = candidates.min() { return first }
        // In a gap: the clocks jumped over this time. Fire when they jumped.
        let searchFrom = Date(timeIntervalSince1970: asUTC - Double(max(offsetBefore, offsetAfter)) - 1)
        return zone.nextDaylightSavingTimeTransition(after: searchFrom) ?? Date(timeIntervalSince1970: asUTC - Double(offsetBefore))
    }
}
