/// When a job that keeps losing its worker stops going back in the queue: a job orphaned
/// `max_orphaned` times (its worker died, or lost its connection, while running it) fails as
/// poison instead of taking every worker down in turn. The worker's own end of an attempt
/// (`JobTransition`) and the rescue of a dead worker's jobs (`MaintenanceQueries.rescue`) both
/// go by it.
enum PoisonRule {
    /// Whether a job orphaned `times` times, this time included, fails as poison.
    static func isPoison(orphanedTimes times: Int, maxOrphaned: Int) -> Bool {
        times >= maxOrphaned
    }

    /// The error a poison job fails with, as a format for SQL's `format()`: `%s` is the count.
    static let errorFormat = "failed as a poison job: orphaned %s times (its worker died or lost its connection while running it)"

    /// The error a poison job fails with after `times` orphanings.
    static func error(orphanedTimes times: Int) -> String {
        errorFormat.replacingOccurrences(of: "%s", with: String(times))
    }
}
