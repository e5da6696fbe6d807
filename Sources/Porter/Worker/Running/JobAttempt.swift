import Foundation
import PorterPostgres
import Synchronization

/// One attempt of one job on this worker, from its claim to its end.
///
/// Every write about the attempt is guarded by what it carries (the job's id, the attempt
/// number and the worker), so a worker never writes over a job that a rescuer gave away.
/// It also carries whether the attempt's `started` event has gone out: everything that
/// publishes about the attempt (the completer's batched end, an sql: job's or
/// `JobContext.finish`'s own transaction, the context's progress and events) waits for it, so
/// a listener always sees `started` first.
final class JobAttempt: Sendable {
    /// What identifies an attempt: a job rescued from this worker and claimed by it again runs
    /// twice here for a moment, and only the older attempt has lost its claim.
    struct Key: Hashable, Sendable {
        var id: Int64
        var attempt: Int
    }

    /// The job's row as the claim returned it.
    let job: ClaimedJob
    let workerID: String
    /// Whether this worker sends job state events (`job_events`).
    let jobEvents: Bool
    /// Stop requests for the running handler.
    let control = JobControl()
    /// The swift-metrics handles of the job's queue and method.
    let metrics: JobMetrics
    /// When the claim returned the job: its run time is measured from here.
    let claimedAt: ContinuousClock.Instant
    /// The trace context the job was enqueued with, read after the claim by a worker that
    /// traces; nil otherwise.
    let traceHeaders: TraceHeaders?

    var key: Key { Key(id: job.id, attempt: job.attempt) }

    private struct State {
        var startedEventOut: Bool
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
        var endedInOwnTransaction = false
        var released = false
    }

    /// A Mutex rather than a lock object: one allocation less for every job.
    private let state: Mutex<State>

    /// `jobEvents` false means no `started` event will be sent, so nothing waits for one.
    init(
        job: ClaimedJob, workerID: String, jobEvents: Bool, metrics: JobMetrics, claimedAt: ContinuousClock.Instant = .now,
        traceHeaders: TraceHeaders? = nil
    ) {
        self.job = job
        self.traceHeaders = traceHeaders
        self.workerID = workerID
        self.jobEvents = jobEvents
        self.metrics = metrics
        self.claimedAt = claimedAt
        self.state = Mutex(State(startedEventOut: !jobEvents))
    }

    // MARK: The started event

    /// Whether the `started` event has been sent (or given up on).
    var isStartedEventOut: Bool { state.withLock { $0.startedEventOut } }

    /// Records that the `started` event has been sent (or given up on), and lets every waiter go.
    func startedEventSent() {
        let released = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.startedEventOut = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in released { waiter.resume() }
    }

    /// Returns once the `started` event is out, or when the calling task is cancelled.
    func waitForStartedEvent() async {
        let token = state.withLock { state -> Int? in
            guard !state.startedEventOut else { return nil }
            state.nextWaiter += 1
            return state.nextWaiter
        }
        guard let token else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.startedEventOut || Task.isCancelled { return true }
                    state.waiters[token] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: token) }
            waiter?.resume()
        }
    }

    // MARK: Ending in the job's own transaction

    /// Writes `transition` inside the caller's transaction, with the statement the completer
    /// uses for batches. False means the job is no longer this attempt's (rescued, canceled,
    /// already ended), and the caller must roll back.
    func write(_ transition: JobTransition, on connection: isolated PQConnection) throws -> Bool {
        let statement = JobRunQueries.endAttempts([(key, transition)], workerID: workerID, jobEvents: jobEvents)
        return try connection.query(statement).affectedRows == 1
    }

    /// Records that the job's own transaction committed its end: the completer writes nothing.
    func endedInItsOwnTransaction() { state.withLock { $0.endedInOwnTransaction = true } }

    /// Whether the job's own transaction committed its end.
    var hasEndedInItsOwnTransaction: Bool { state.withLock { $0.endedInOwnTransaction } }

    // MARK: The slot

    /// True the first time only: the attempt's slot is released once, at its end or when its
    /// handler is abandoned (`SupervisedHandler.runHere`), not again when that handler returns.
    func release() -> Bool {
        state.withLock { state in
            defer { state.released = true }
            return !state.released
        }
    }
}
