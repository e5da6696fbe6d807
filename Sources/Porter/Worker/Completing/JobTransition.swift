import PorterPostgres

/// What the end of one attempt does to its job's row: the status it moves to and what is
/// stored with it. Every way an attempt ends is decided here, in `after(_:attempt:maxAttempts:retryDelay:)`,
/// and written by one statement (`JobRunQueries.endAttempts`), batched by the completer
/// or inside the job's own transaction.
struct JobTransition: Sendable, Hashable {
    enum Status: String, Sendable, Hashable {
        /// Done; `result` is stored.
        case finished
        /// Failed for good; `error` is stored and added to `errors`.
        case failed
        /// Failed, to run again after `retryIn`; `error` is added to `errors`.
        case scheduled
        /// Stopped by `porter cancel`.
        case canceled
        /// Given back as if never started: the attempt is not counted.
        case queued
    }

    var status: Status
    var result: PQJSON?
    var error: String?
    /// For `scheduled`: how long until the retry may run.
    var retryIn: Duration = .zero
    /// The attempt was orphaned (its connection was lost): `orphaned` counts one more.
    var orphaned = false

    init(status: Status, result: PQJSON? = nil, error: String? = nil, retryIn: Duration = .zero, orphaned: Bool = false) {
        self.status = status
        self.result = result
        self.error = error.map { Self.cut($0) }
        self.retryIn = retryIn
        self.orphaned = orphaned
    }

    /// The most bytes of error text stored for one attempt (in `error` and in `errors`). A
    /// handler's error can be any size; a job's row and its events must stay bounded.
    static let maxErrorBytes = 4000

    /// The transition for an attempt that ended as `end`, or nil when nothing is to be written
    /// (the row was already written in the job's own transaction, or belongs to someone else).
    /// `attempt` is the attempt's number (1 for the first), `maxAttempts` the job's (else its
    /// queue's), `orphaned` how many times the job was orphaned before this attempt (rescued
    /// from a dead worker, or its connection lost), `maxOrphaned` the worker's `max_orphaned`,
    /// and `retryDelay` the backoff after a given failed attempt.
    static func after(
        _ end: AttemptEnd, attempt: Int, maxAttempts: Int, orphaned: Int, maxOrphaned: Int,
        retryDelay: (Int) -> Duration
    ) -> JobTransition? {
        func failure(_ message: String, retryable: Bool) -> JobTransition {
            if retryable && attempt < maxAttempts {
                return JobTransition(status: .scheduled, error: message, retryIn: retryDelay(attempt))
            }
            return JobTransition(status: .failed, error: message)
        }
        switch end {
        case .returned(let result):
            return JobTransition(status: .finished, result: result)
        case .threw(let message, let permanent):
            return failure(message, retryable: !permanent)
        case .timedOut(let seconds):
            return failure("timed out after \(seconds) s", retryable: true)
        case .canceled:
            return JobTransition(status: .canceled, error: "canceled while running (porter cancel)")
        case .stoppedByShutdown, .handedBack:
            return JobTransition(status: .queued)
        case .connectionLost(let message):
            return orphanedTransition(
                requeued: "connection lost while running the job; requeued without using an attempt: \(message)", cause: message,
                orphaned: orphaned, maxOrphaned: maxOrphaned)
        case .lostClaim, .finishedInOwnTransaction:
            return nil
        }
    }

    /// The transition for a job whose claim committed but whose answer never reached the
    /// worker (the connection was lost): it did not run, and goes back in the queue without
    /// using an attempt, orphaned once more, as after a lost connection.
    static func afterLostClaimAnswer(orphaned: Int, maxOrphaned: Int) -> JobTransition {
        let cause = "the worker's claim of the job committed but its answer never arrived (connection lost)"
        return orphanedTransition(
            requeued: cause + "; requeued without using an attempt, the job did not run", cause: cause,
            orphaned: orphaned, maxOrphaned: maxOrphaned)
    }

    /// Back in the queue without using an attempt, orphaned once more; as the rescue of a
    /// dead worker's job counts, a job orphaned `maxOrphaned` times fails as poison instead of
    /// looping. `requeued` is the error a requeued job records, `cause` what a poison one's
    /// names last.
    private static func orphanedTransition(requeued: String, cause: String, orphaned: Int, maxOrphaned: Int) -> JobTransition {
        let times = orphaned + 1
        if PoisonRule.isPoison(orphanedTimes: times, maxOrphaned: maxOrphaned) {
            return JobTransition(status: .failed, error: PoisonRule.error(orphanedTimes: times) + "; last: \(cause)", orphaned: true)
        }
        return JobTransition(status: .queued, error: requeued, orphaned: true)
    }

    /// `text` cut to at most `maxBytes` UTF-8 bytes at a character boundary, marked as cut.
    static func cut(_ text: String, maxBytes: Int = maxErrorBytes) -> String {
        guard text.utf8.count > maxBytes else { return text }
        let marker = " … (cut to \(maxBytes) bytes)"
        let budget = maxBytes - marker.utf8.count
        var bytes = 0
        var end = text.startIndex
        for character in text {
            let size = character.utf8.count
            guard bytes + size <= budget else { break }
            bytes += size
            end = text.index(after: end)
        }
        return String(text[..<end]) + marker
    }
}
