import Foundation

/// One method run on one schedule: Frappe's `scheduler_events` entries.
public struct ScheduledEvent: Sendable, Hashable {
    /// When the event fires.
    public enum Timing: Sendable, Hashable {
        /// Every scheduler tick (Frappe's `all`).
        case everyTick
        /// On a cron schedule, in the scheduler's time zone.
        case cron(CronExpression)
    }

    /// The event's name as stored in `porter.schedule.event`: `all`, `hourly`, `daily_long`, or
    /// `cron:<expression>`.
    public var name: String
    /// When it fires: every tick, or on a cron schedule.
    public var timing: Timing
    /// The method to enqueue, with no arguments (Frappe's rule).
    public var method: String
    /// `long` for the `_long` events, else `default`.
    public var queue: String

    /// An event that enqueues `method` on `queue` when `timing` says.
    public init(name: String, timing: Timing, method: String, queue: String) {
        self.name = name
        self.timing = timing
        self.method = method
        self.queue = queue
    }

    /// The first fire time strictly after `instant`.
    func nextFire(after instant: Date, tick: Duration, zone: TimeZone) -> Date? {
        switch timing {
        case .everyTick:
            // Tick slots are aligned to the epoch, so every scheduler agrees on them.
            let seconds = max(tick.seconds, 1)
            return Date(timeIntervalSince1970: ((instant.timeIntervalSince1970 / seconds).rounded(.down) + 1) * seconds)
        case .cron(let cron):
            return cron.nextFire(after: instant, in: zone)
        }
    }
}
