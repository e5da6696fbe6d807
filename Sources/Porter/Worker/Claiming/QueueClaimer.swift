import Foundation
import Logging
import PorterPostgres

/// Claims and runs one queue's jobs in one worker process, up to `capacity` at once.
///
/// It claims in batches sized to its free slots, when woken by an enqueue notification, by
/// the poll timer, or when enough slots have come free while jobs are waiting. On shutdown it
/// stops claiming, lets running jobs finish within the grace period, then stops the rest,
/// which go back in the queue. It claims nothing while the worker is fenced off (`WorkerFence`),
/// and hands the jobs it cannot run to `ForeignJobs`.
final class QueueClaimer: Sendable {
    enum Event: Sendable {
        case wake
        case finished
        case shutdown
        case graceOver
    }

    let queue: String
    let capacity: Int
    private let pool: PQPool
    private let workerID: String
    private let executor: JobExecutor
    private let completer: JobCompleter
    private let running: RunningAttempts
    private let fence: WorkerFence
    private let foreign: ForeignJobs
    private let statistics: WorkerStatistics
    private let configuration: WorkerConfiguration
    private let statements: StatementPreparation
    private let outage: DatabaseOutage
    private let logger: Logger
    private let events = AsyncStream<Event>.makeStream()

    init(
        queue: String, capacity: Int, pool: PQPool, workerID: String, executor: JobExecutor,
        completer: JobCompleter, running: RunningAttempts, fence: WorkerFence, foreign: ForeignJobs,
        statistics: WorkerStatistics, configuration: WorkerConfiguration, statements: StatementPreparation,
        outage: DatabaseOutage, logger: Logger
    ) {
        self.queue = queue
        self.capacity = capacity
        self.pool = pool
        self.workerID = workerID
        self.executor = executor
        self.completer = completer
        self.running = running
        self.fence = fence
        self.foreign = foreign
        self.statistics = statistics
        self.configuration = configuration
        self.statements = statements
        self.outage = outage
        var logger = logger
        logger[metadataKey: "porter.queue"] = "\(queue)"
        self.logger = logger
    }

    /// Claim now: a job may be waiting.
    func wake() { events.continuation.yield(.wake) }

    /// Stop claiming and wind down.
    func shutdown() { events.continuation.yield(.shutdown) }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { [events, configuration] in
                // The poll timer: catches anything a notification missed.
                while !Task.isCancelled {
                    try? await Task.sleep(for: configuration.pollInterval)
                    events.continuation.yield(.wake)
                }
            }
            // Counted by the jobs themselves, so a claim sees every slot freed so far, not only
            // the ones whose events this loop has read.
            let slots = SlotCount()
            var waiting = true  // jobs may be waiting: claim at start
            var stopping = false
            // This loop's own lookup of the metrics handles, so a claim takes no lock for them.
            var metrics: [String: JobMetrics] = [:]
            // While the database is unreachable, claims back off (wakes before `retryAt` pass).
            var failedClaims = 0
            var retryAt: ContinuousClock.Instant?
            // Whether claims are failing for another reason: warned about once, not once per poll.
            var failing = false
            events.continuation.yield(.wake)
            for await event in events.stream {
                switch event {
                case .wake:
                    waiting = true
                case .finished:
                    break
                case .shutdown:
                    guard !stopping else { break }
                    stopping = true
                    logger.info("stopped claiming; waiting for running jobs", metadata: ["porter.running": "\(slots.inFlight)"])
                    group.addTask { [events, configuration] in
                        try? await Task.sleep(for: configuration.shutdownGrace)
                        events.continuation.yield(.graceOver)
                    }
                case .graceOver:
                    if slots.inFlight > 0 {
                        logger.info("grace period over; stopping running jobs and requeueing them", metadata: ["porter.running": "\(slots.inFlight)"])
                        running.stopAll(.shutdown)
                    }
                }
                let inFlight = slots.inFlight
                if stopping {
                    if inFlight == 0 { break }
                    continue
                }
                let free = capacity - inFlight
                // Claim when jobs may be waiting and enough slots are free to make a batch
                // worth a round trip, or when nothing at all is running.
                guard waiting, free > 0, inFlight == 0 || free * 2 >= capacity || event.isWake else { continue }
                if let retryAt, ContinuousClock.now < retryAt { continue }
                // Cut off from the database: a rescuer may give away whatever is claimed now.
                guard !fence.isFenced else { continue }
                let limit = JobRunQueries.claimSize(free: free)
                let claimed: [ClaimedJob]
                let sentAt = ContinuousClock.now
                do {
                    let claim = JobRunQueries.claimAvailable(
                        queue: queue, limit: limit, workerID: workerID, skipping: foreign.skipped(in: queue))
                    claimed = try await pool.query(statements.statement(claim)).map(ClaimedJob.init(row:))
                } catch where statements.isSharedSessionError(error) {
                    // The worker is stopping; nothing was claimed.
                    logger.error("claim failed: prepared statements cannot work on shared server sessions; stopping", metadata: ["error": "\(error)"])
                    continue
                } catch where outage.failed(error, during: "claim") {
                    failedClaims += 1
                    retryAt = .now + DatabaseOutage.backoff(afterFailures: failedClaims)
                    continue
                } catch {
                    if !failing {
                        failing = true
                        logger.warning("claim failed; retrying at every poll until one succeeds", metadata: ["error": "\(error)"])
                    }
                    continue
                }
                if failing {
                    failing = false
                    logger.info("claims succeed again")
                }
                if failedClaims > 0 {
                    failedClaims = 0
                    retryAt = nil
                }
                outage.succeeded(sentAt: sentAt)
                waiting = claimed.count == limit
                guard !claimed.isEmpty else { continue }
                let jobs = await foreign.settle(claimed, completer: completer)
                let claimedAt = ContinuousClock.now
                let attempts = jobs.map { job in
                    let handles = metrics[job.method] ?? JobMetrics.of(queue: queue, method: job.method)
                    metrics[job.method] = handles
                    return JobAttempt(
                        job: job, workerID: workerID, jobEvents: configuration.jobEvents, metrics: handles, claimedAt: claimedAt)
                }
                // Before any of them runs, so that their started events precede their ends.
                await completer.claimed(attempts)
                for attempt in attempts {
                    slots.take()
                    running.add(attempt)
                    attempt.metrics.started.increment()
                    attempt.metrics.queue.wait.recordNanoseconds(Int64(min(max(attempt.job.waitSeconds, 0), 1e9) * 1e9))
                    attempt.metrics.queue.slotsBusy.increment()
                    statistics.started(queue: queue, wait: attempt.job.waitSeconds, at: claimedAt)
                    // Fenced off since the claim: the fence stopped what ran then, not this.
                    if fence.isFenced { attempt.control.stop(.fenced) }
                    group.addTask { [executor, completer, running, statistics, events, capacity, queue] in
                        let end = await executor.run(attempt)
                        running.remove(attempt)
                        attempt.metrics.queue.slotsBusy.decrement()
                        statistics.freed(queue: queue)
                        await completer.ended(attempt, end)
                        // Wake the loop only when this slot makes a claim possible: the last
                        // one, or the one that brings the free slots to half. One wake-up per
                        // batch rather than one per job.
                        let inFlight = slots.release()
                        let free = capacity - inFlight
                        if inFlight == 0 || (free * 2 >= capacity && (free - 1) * 2 < capacity) {
                            events.continuation.yield(.finished)
                        }
                    }
                }
            }
            group.cancelAll()
        }
    }
}

extension QueueClaimer.Event {
    var isWake: Bool {
        if case .wake = self { return true }
        return false
    }
}

/// The number of a claimer's slots in use, shared by the claim loop and its jobs.
final class SlotCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var inFlight: Int { lock.withLock { count } }
    func take() { lock.withLock { count += 1 } }
    /// Frees a slot; returns the number still in use.
    @discardableResult
    func release() -> Int {
        lock.withLock {
            count -= 1
            return count
        }
    }
}
