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
            // As the rescue of a dead worker's job counts: a job that keeps losing its
            // connection (or its worker) fails as poison instead of looping.
            let times = orphaned + 1
            if PoisonRule.isPoison(orphanedTimes: times, maxOrphaned: maxOrphaned) {
                return JobTransition(
                    status: .failed, error: PoisonRule.error(orphanedTimes: times) + "; last: \(message)", orphaned: true)
            }
            return JobTransition(
                status: .queued, error: "connection lost while running the job; requeued without using an attempt: \(message)",
                orphaned: true)
        case .lostClaim, .finishedInOwnTransaction:
            return nil
        }
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
