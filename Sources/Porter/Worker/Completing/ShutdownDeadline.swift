import Foundation

/// When the completer stops retrying at shutdown; set once, from any thread.
final class ShutdownDeadline: @unchecked Sendable {
    private let lock = NSLock()
    private var deadline: ContinuousClock.Instant?

    /// Starts the clock, unless it runs already.
    func begin(grace: Duration) {
        lock.withLock {
            if deadline == nil { deadline = .now + grace }
        }
    }

    var hasPassed: Bool { lock.withLock { deadline.map { $0 <= .now } ?? false } }

    /// The time left, once the clock runs.
    var remaining: Duration? {
        lock.withLock { deadline.map { max(.zero, $0 - .now) } }
    }
}
