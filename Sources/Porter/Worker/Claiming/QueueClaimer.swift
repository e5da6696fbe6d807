import Foundation
import Logging
import PorterPostgres

/// Claims and runs one queue's jobs in one worker process, up to `capacity` at once.
///
/// It claims in batches sized to its free slots, when woken by an enqueue notification, by
/// the poll timer, or when enough slots have come free while jobs are waiting. On shutdown it
/// stops claiming, lets running jobs finish within the grace period, then stops the rest,
/// which go back in the queue. It claims nothing while the worker is fenced off (`WorkerFence`),
/// and hands the jobs it cannot run to `ForeignJobs`. Those decisions are `ClaimLoop`'s; this
/// type carries them out.
final class QueueClaimer: Sendable {
    let queue: String
    let capacity: Int
    private let runtime: WorkerRuntime
    private let logger: Logger
    private let events = AsyncStream<ClaimLoop.Event>.makeStream()

    init(queue: String, capacity: Int, runtime: WorkerRuntime) {
        self.queue = queue
        self.capacity = capacity
        self.runtime = runtime
        var logger = runtime.logger
        logger[metadataKey: "porter.queue"] = "\(queue)"
        self.logger = logger
    }

    /// Claim now: a job may be waiting.
    func wake() { events.continuation.yield(.wake) }

    /// Stop claiming and wind down.
    func shutdown() { events.continuation.yield(.shutdown) }

    func run() async {
        let configuration = runtime.configuration
        await withDiscardingTaskGroup { group in
            group.addTask { [events] in
                // The poll timer: catches anything a notification missed.
                while !Task.isCancelled {
                    try? await Task.sleep(for: configuration.pollInterval)
                    events.continuation.yield(.wake)
                }
            }
            // Counted by the jobs themselves, so a claim sees every slot freed so far, not only
            // the ones whose events this loop has read.
            let slots = SlotCount()
            var loop = ClaimLoop(capacity: capacity)
            // This loop's own lookup of the metrics handles, so a claim takes no lock for them.
            var metrics: [String: JobMetrics] = [:]
            // The wake-up for when a full rate window of this queue frees a start.
            var rateWake: Task<Void, Never>?
            defer { rateWake?.cancel() }
            events.continuation.yield(.wake)
            eventLoop: for await event in events.stream {
                switch loop.next(after: event, inFlight: slots.inFlight, fenced: runtime.fence.isFenced, now: .now) {
                case .idle:
                    continue
                case .exit:
                    break eventLoop
                case .startGraceTimer:
                    logger.info("stopped claiming; waiting for running jobs", metadata: ["porter.running": "\(slots.inFlight)"])
                    group.addTask { [events] in
                        try? await Task.sleep(for: configuration.shutdownGrace)
                        events.continuation.yield(.graceOver)
                    }
                case .stopRunningJobs:
                    logger.info("grace period over; stopping running jobs and requeueing them", metadata: ["porter.running": "\(slots.inFlight)"])
                    runtime.running.stopAll(.shutdown)
                case .claim(let limit):
                    guard let (claimed, rateRoomIn) = await claim(limit: limit, loop: &loop) else { continue }
                    if let delay = Self.rateWakeDelay(rateRoomIn, pollInterval: configuration.pollInterval) {
                        rateWake?.cancel()
                        rateWake = Task { [events] in
                            try? await Task.sleep(for: delay)
                            if !Task.isCancelled { events.continuation.yield(.wake) }
                        }
                    }
                    guard !claimed.isEmpty else { continue }
                    let jobs = await runtime.foreign.settle(claimed, completer: runtime.completer)
                    let claimedAt = ContinuousClock.now
                    let attempts = jobs.map { job in
                        let handles = metrics[job.method] ?? JobMetrics.of(queue: queue, method: job.method)
                        metrics[job.method] = handles
                        return JobAttempt(
                            job: job, workerID: runtime.workerID, jobEvents: configuration.jobEvents, metrics: handles,
                            claimedAt: claimedAt, traceHeaders: job.traceHeaders)
                    }
                    // Before any of them runs, so that their started events precede their ends.
                    await runtime.completer.claimed(attempts)
                    for attempt in attempts {
                        start(attempt, claimedAt: claimedAt, slots: slots)
                    }
                }
            }
            // Cancelled rather than shut down (the worker stops the jobs themselves): the
            // jobs' ends go to the completer before the worker finishes it.
            await slots.drained()
            group.cancelAll()
        }
    }

    /// When to claim again after a claim that left jobs held by a full rate window, which frees
    /// a start in `rateRoomIn` seconds: then (at least a millisecond on, so that a window that
    /// is just freeing cannot spin the loop), or never when the poll comes first.
    static func rateWakeDelay(_ rateRoomIn: Double?, pollInterval: Duration) -> Duration? {
        // Compared as a Double first: a Duration of any Double may not fit, and would trap.
        guard let rateRoomIn, rateRoomIn.isFinite, rateRoomIn + 0.001 < pollInterval.seconds else { return nil }
        return .milliseconds(1) + .microseconds(Int64((max(rateRoomIn, 0) * 1e6).rounded(.up)))
    }

    /// Claims up to `limit` jobs and records how it went in `loop`; nil when the claim failed.
    /// With the jobs, the seconds until a full rate window frees a start, when the claim says
    /// (`ClaimedJob.answer`).
    private func claim(limit: Int, loop: inout ClaimLoop) async -> (jobs: [ClaimedJob], rateRoomIn: Double?)? {
        let sentAt = ContinuousClock.now
        let result: ClaimLoop.ClaimResult
        var claimed: (jobs: [ClaimedJob], rateRoomIn: Double?)?
        do {
            // A worker that traces reads the jobs' trace contexts in the same statement.
            let traced = runtime.executor.tracing != nil
            let claim = JobRunQueries.claimAvailable(
                queue: queue, limit: limit, workerID: runtime.workerID, skipping: runtime.foreign.skipped(in: queue),
                withTraceContext: traced)
            // Counted from before it is sent: a claim can commit and still fail here.
            let number = runtime.owned.claimSent()
            do {
                let answer = try ClaimedJob.answer(
                    try await runtime.pool.query(runtime.statements.statement(claim)), withTraceContext: traced)
                runtime.owned.claimAnswered(number, answer.jobs.map { JobAttempt.Key(id: $0.id, attempt: $0.attempt) })
                claimed = answer
            } catch {
                runtime.owned.claimFailed(number)
                throw error
            }
            runtime.outage.succeeded(sentAt: sentAt)
            result = .claimed(count: claimed?.jobs.count ?? 0, limit: limit)
        } catch where runtime.statements.isSharedSessionError(error) {
            // The worker is stopping; nothing was claimed.
            logger.error("claim failed: prepared statements cannot work on shared server sessions; stopping", metadata: ["error": "\(error)"])
            return nil
        } catch where runtime.outage.failed(error, during: "claim") {
            result = .unreachable
        } catch {
            result = .failed
            if loop.record(result, now: .now) == .failing {
                logger.warning("claim failed; retrying at every poll until one succeeds", metadata: ["error": "\(error)"])
            }
            return nil
        }
        if loop.record(result, now: .now) == .succeedingAgain {
            logger.info("claims succeed again")
        }
        return claimed
    }

    /// Takes a slot for `attempt` and runs it in a task of its own; its end, or the abandonment
    /// of a handler that ignores its cancellation, frees the slot and wakes the loop when that
    /// makes a claim possible.
    ///
    /// Unstructured, so that nothing waits for a handler that never ends, and the only task
    /// the job gets: the handler runs in it (`SupervisedHandler.runHere`).
    private func start(_ attempt: JobAttempt, claimedAt: ContinuousClock.Instant, slots: SlotCount) {
        slots.take()
        runtime.running.add(attempt)
        attempt.metrics.started.increment()
        attempt.metrics.queue.wait.recordNanoseconds(Int64(min(max(attempt.job.waitSeconds, 0), 1e9) * 1e9))
        attempt.metrics.queue.slotsBusy.increment()
        runtime.statistics.started(queue: queue, wait: attempt.job.waitSeconds, at: claimedAt)
        // Fenced off since the claim: the fence stopped what ran then, not this.
        if runtime.fence.isFenced { attempt.control.stop(.fenced) }
        let release: @Sendable (AttemptEnd) -> Void = { [runtime, events, capacity, queue] end in
            // Once: at the end, or at the abandonment and not again when the handler returns.
            guard attempt.release() else { return }
            runtime.running.remove(attempt)
            attempt.metrics.queue.slotsBusy.decrement()
            runtime.statistics.freed(queue: queue)
            runtime.completer.ended(attempt, end)
            if ClaimLoop.wakesLoop(inFlightAfterRelease: slots.release(), capacity: capacity) {
                events.continuation.yield(.slotsFreed)
            }
        }
        Task { [runtime] in
            release(await runtime.executor.run(attempt, abandoned: release))
        }
    }
}

/// The number of a claimer's slots in use, shared by the claim loop and its jobs.
final class SlotCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    var inFlight: Int { lock.withLock { count } }
    func take() { lock.withLock { count += 1 } }
    /// Frees a slot; returns the number still in use.
    @discardableResult
    func release() -> Int {
        let (left, drained) = lock.withLock { () -> (Int, [CheckedContinuation<Void, Never>]) in
            count -= 1
            guard count <= 0 else { return (count, []) }
            defer { waiters.removeAll() }
            return (0, waiters)
        }
        for waiter in drained { waiter.resume() }
        return left
    }

    /// Returns once no slot is in use, even in a cancelled task.
    func drained() async {
        await withCheckedContinuation { continuation in
            let now = lock.withLock { () -> Bool in
                guard count > 0 else { return true }
                waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}
