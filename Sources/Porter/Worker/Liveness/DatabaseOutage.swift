import Foundation
import Logging
import PorterPostgres

/// Whether a worker's database answers, as its loops (start-up, claims, heartbeats,
/// maintenance) find out. An outage is logged once, as a warning, when the first loop runs
/// into it, and once more, at info, when a statement succeeds again; in between, failures are
/// logged at debug and the loops retry with backoff. Without it, an idle worker with the
/// database down logged a message per queue per poll, and more per heartbeat and maintenance
/// pass: 72 in 20 seconds.
final class DatabaseOutage: @unchecked Sendable {
    private let lock = NSLock()
    /// When the outage began, and how many statements have failed since; under `lock`.
    private var since: ContinuousClock.Instant?
    private var failures = 0
    /// When the last outage ended; under `lock`.
    private var lastEnded: ContinuousClock.Instant?
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// Records a failed statement of `activity` ("claim", "heartbeat", ...). Returns true when
    /// the error means the database cannot be reached, so the caller should back off; other
    /// errors are the caller's to report.
    func failed(_ error: any Error, during activity: String) -> Bool {
        guard let error = error as? PQError, error.isConnectionLost else { return false }
        let first = lock.withLock { () -> Bool in
            failures += 1
            guard since == nil else { return false }
            since = .now
            return true
        }
        let metadata: Logger.Metadata = ["error": "\(Self.oneLine(error))", "porter.activity": "\(activity)"]
        if first {
            logger.warning("database unavailable; retrying with backoff, and logging again once it answers", metadata: metadata)
        } else {
            logger.debug("database still unavailable", metadata: metadata)
        }
        return true
    }

    /// Whether an outage is under way (a statement failed for want of the database and none
    /// has succeeded since), or ended less than `window` ago: a loop that finds out late, such
    /// as the worker's session checking its socket, is then reporting the same outage.
    func isOngoing(orEndedWithin window: Duration) -> Bool {
        lock.withLock { since != nil || lastEnded.map { ContinuousClock.now - $0 < window } ?? false }
    }

    /// Records a statement, sent at `sentAt`, that succeeded; ends the outage, if one was
    /// under way and began before `sentAt`. A statement already on its way when the server
    /// began to shut down can still succeed, and says nothing about the database now.
    func succeeded(sentAt: ContinuousClock.Instant) {
        let ended = lock.withLock { () -> (Duration, Int)? in
            guard let began = since, sentAt > began else { return nil }
            defer {
                since = nil
                failures = 0
                lastEnded = .now
            }
            return (ContinuousClock.now - began, failures)
        }
        guard let (duration, failures) = ended else { return }
        logger.info(
            "database reachable again",
            metadata: ["porter.outage.seconds": "\(Int(duration.seconds.rounded()))", "porter.outage.failures": "\(failures)"])
    }

    /// How long a loop that has failed `failures` times in a row waits before it tries again:
    /// 100 ms, doubling, at most 5 s.
    static func backoff(afterFailures failures: Int) -> Duration {
        min(.milliseconds(100 << min(max(failures - 1, 0), 6)), .seconds(5))
    }

    /// libpq's connection errors run over two lines ("... failed: Connection refused\n\tIs the
    /// server running ...?"); a log entry keeps to one.
    static func oneLine(_ error: any Error) -> String {
        "\(error)".split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }
}
