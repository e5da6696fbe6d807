import Foundation

/// One timer for the deadlines of every Swift handler a worker runs, instead of a sleeping
/// task per job: arming and cancelling a Dispatch timer for each job cost a busy worker about
/// 8 % of its CPU.
///
/// `run()` wakes at the earliest deadline, and at least every `resolution`, so that a deadline
/// added while it sleeps is seen that much late at worst.
final class JobDeadlines: @unchecked Sendable {
    typealias Token = Int

    private let lock = NSLock()
    private var entries: [Token: (deadline: ContinuousClock.Instant, expire: @Sendable () -> Void)] = [:]
    private var nextToken = 0
    private let resolution: Duration

    init(resolution: Duration = .milliseconds(100)) {
        self.resolution = resolution
    }

    /// Calls `expire` once `deadline` has passed, unless `remove` comes first.
    func add(_ deadline: ContinuousClock.Instant, expire: @escaping @Sendable () -> Void) -> Token {
        lock.withLock {
            nextToken += 1
            entries[nextToken] = (deadline, expire)
            return nextToken
        }
    }

    func remove(_ token: Token) {
        _ = lock.withLock { entries.removeValue(forKey: token) }
    }

    /// Fires expired deadlines until the task is cancelled.
    func run() async {
        while !Task.isCancelled {
            let now = ContinuousClock.now
            let (expired, next) = lock.withLock { () -> ([@Sendable () -> Void], ContinuousClock.Instant?) in
                var expired: [@Sendable () -> Void] = []
                var next: ContinuousClock.Instant?
                for (token, entry) in entries {
                    if entry.deadline <= now {
                        expired.append(entry.expire)
                        entries[token] = nil
                    } else if next.map({ entry.deadline < $0 }) ?? true {
                        next = entry.deadline
                    }
                }
                return (expired, next)
            }
            for expire in expired { expire() }
            let wake = min(next ?? now + resolution, now + resolution)
            try? await Task.sleep(until: wake, clock: .continuous)
        }
    }
}
