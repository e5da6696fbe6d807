import Foundation
import Logging
import PorterPostgres
import Synchronization

/// Writes back what a worker's attempts did, in order: the `started` events of fresh claims,
/// then the attempts' ends in batches. Whatever arrived while the previous batch was being
/// written goes in the next statement, so a busy worker ends many jobs per round trip and an
/// idle one ends each job at once.
///
/// **Order.** Each pass takes the ends that have arrived, then sends the `started` event of
/// every attempt claimed so far, and only then writes those ends. An attempt is claimed before
/// it runs, so its `started` event always goes out before its end event. A worker that dies
/// between a claim and the next pass sends no `started` event for that attempt; the job's
/// rescue sends `queued`.
///
/// **No job holds the others hostage.** A batch that fails for any reason but a lost
/// connection is split in halves until the job that makes it fail is alone; that job is failed
/// with an error that says why, and every other job of the batch is written. A lost connection,
/// a deadlock or a serialization failure keeps the batch and tries again with backoff; if the
/// worker dies first, the rescuer requeues the jobs, so nothing is lost.
///
/// **Shutdown.** Once the worker's shutdown began, retries end `shutdownGrace` + 4 s later
/// (1 s after `finish()` if nothing began it), whatever the database does; what could not be
/// written is logged, and those jobs are rescued as a dead worker's.
actor JobCompleter {
    private struct Completion: Sendable {
        var attempt: JobAttempt
        var transition: JobTransition
        /// From the claim to the end.
        var ran: Duration
    }

    private let pool: PQPool
    private let workerID: String
    private let configuration: WorkerConfiguration
    private let statistics: WorkerStatistics
    private let statements: StatementPreparation
    /// Released here once an attempt's end is written (`OwnedAttempts`).
    private let owned: OwnedAttempts
    private let logger: Logger
    private var pending: [Completion] = []
    /// Ends handed over by `ended` from the jobs' tasks, without a hop onto this actor, until a
    /// pass takes them into `pending` (`takeArrived`).
    private let arrived = Mutex<[Completion]>([])
    /// Claimed attempts whose `started` event is not sent yet.
    private var unannounced: [JobAttempt] = []
    private let signal = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    private let shutdown = ShutdownDeadline()
    /// Whether the current outage was logged as a warning already.
    private var outageLogged = false

    init(
        pool: PQPool, workerID: String, configuration: WorkerConfiguration, statistics: WorkerStatistics,
        statements: StatementPreparation, owned: OwnedAttempts, logger: Logger
    ) {
        self.owned = owned
        self.pool = pool
        self.workerID = workerID
        self.configuration = configuration
        self.statistics = statistics
        self.statements = statements
        self.logger = logger
    }

    /// Queues the `started` events of attempts just claimed (those that wait for one).
    func claimed(_ attempts: [JobAttempt]) {
        let waiting = attempts.filter { !$0.isStartedEventOut }
        guard !waiting.isEmpty else { return }
        unannounced += waiting
        signal.continuation.yield()
    }

    /// Decides what the attempt's end does to its job (`JobTransition`) and queues it for the
    /// next batch. Called from the job's task; it takes a lock, not a turn on this actor.
    nonisolated func ended(_ attempt: JobAttempt, _ end: AttemptEnd) {
        let job = attempt.job
        let ran = ContinuousClock.now - attempt.claimedAt
        if end == .finishedInOwnTransaction { observe(attempt, .finished, ran: ran) }
        let transition = JobTransition.after(
            end, attempt: job.attempt, maxAttempts: job.maxAttempts ?? configuration.queue(job.queue).maxAttempts,
            orphaned: job.orphaned, maxOrphaned: configuration.maxOrphaned,
            retryDelay: { configuration.retryPolicy.delay(afterAttempt: $0) })
        guard let transition else {
            // Written in the job's own transaction, or no longer this worker's.
            owned.released(attempt.key)
            return
        }
        let completion = Completion(attempt: attempt, transition: transition, ran: ran)
        arrived.withLock { $0.append(completion) }
        signal.continuation.yield()
    }

    /// Moves the ends that have arrived into `pending`, in their order.
    private func takeArrived() {
        var taken: [Completion] = []
        arrived.withLock { swap(&taken, &$0) }
        pending += taken
    }

    /// Records an outcome once it is written: in swift-metrics and in the figures the
    /// heartbeat reports (`WorkerStatistics`); the attempt is no longer this worker's.
    private nonisolated func observe(_ attempt: JobAttempt, _ status: JobTransition.Status, ran: Duration) {
        owned.released(attempt.key)
        attempt.metrics.record(status, ran: ran)
        if status != .queued { statistics.ended(queue: attempt.job.queue, finished: status == .finished, ran: ran) }
    }

    /// Writes until `finish()`, then writes what is left and returns.
    func run() async {
        for await _ in signal.stream {
            await writeAll()
        }
        shutdown.begin(grace: .seconds(1))
        await writeAll()
    }

    /// The worker's shutdown began: from now on, retries end after `shutdownGrace` + 4 s.
    nonisolated func shutdownBegan() {
        shutdown.begin(grace: configuration.shutdownGrace + .seconds(4))
    }

    /// Returns at the shutdown deadline (once shutdown began).
    nonisolated func shutdownDeadline() async {
        shutdown.begin(grace: .seconds(1))
        while let remaining = shutdown.remaining, remaining > .zero, !Task.isCancelled {
            try? await Task.sleep(for: remaining)
        }
    }

    /// Ends `run()` once everything submitted so far is written (or given up on).
    nonisolated func finish() {
        signal.continuation.finish()
    }

    // MARK: Writing

    private func writeAll() async {
        var delay = Duration.milliseconds(50)
        takeArrived()
        while !unannounced.isEmpty || !pending.isEmpty {
            do {
                try await writeOnce()
                delay = .milliseconds(50)
                if outageLogged {
                    outageLogged = false
                    logger.warning("database reachable again; job outcomes recorded")
                }
            } catch {
                if shutdown.hasPassed || Task.isCancelled {
                    giveUp()
                    return
                }
                if !outageLogged {
                    outageLogged = true
                    logger.warning(
                        "could not record job outcomes (database unavailable or busy); keeping them and retrying",
                        metadata: ["error": "\(error)", "porter.jobs": "\(pending.count)"])
                }
                try? await Task.sleep(for: min(delay, shutdown.remaining ?? delay))
                delay = min(delay * 2, .seconds(2))
            }
            takeArrived()
        }
    }

    /// One pass: the ends that have arrived, after the `started` events of every attempt
    /// claimed so far, in one statement when it succeeds. Throws only for a transient failure
    /// (`isWorthRetrying`), with what is left put back.
    private func writeOnce() async throws {
        let batch = pending
        pending.removeAll()
        let announcing = unannounced
        unannounced.removeAll()
        // The usual pass: the events and the ends in one statement, the events first. Every
        // end here is of an attempt announced before or now: `claimed` precedes its run.
        if !announcing.isEmpty, !batch.isEmpty {
            do {
                try await execute(JobRunQueries.endAttempts(
                    batch.map { ($0.attempt.key, $0.transition) }, announcing: announcing,
                    workerID: workerID, jobEvents: configuration.jobEvents))
                for attempt in announcing { attempt.startedEventSent() }
                for completion in batch { observe(completion.attempt, completion.transition.status, ran: completion.ran) }
                return
            } catch where isWorthRetrying(error) {
                unannounced = announcing + unannounced
                pending = batch + pending
                throw error
            } catch {
                // Something in the batch is refused: the events go alone, and the ends are
                // split around the job that makes them fail (`write`).
            }
        }
        do {
            try await announce(announcing)
        } catch {
            unannounced = announcing + unannounced
            pending = batch + pending
            throw error
        }
        // Ends that arrived while those events went out join this batch when their attempt's
        // event is out too (a small worker would otherwise write half-size batches); the ends
        // of attempts claimed meanwhile wait for the next pass, after their started events.
        takeArrived()
        let ready = pending.filter { $0.attempt.isStartedEventOut }
        if !ready.isEmpty {
            pending.removeAll { $0.attempt.isStartedEventOut }
        }
        try await write(batch + ready)
    }

    /// Sends `started` events. A failure that is not transient is retried one attempt
    /// at a time, and what still fails is dropped with a warning: an event must not hold up the
    /// outcomes behind it.
    private func announce(_ attempts: [JobAttempt]) async throws {
        guard !attempts.isEmpty else { return }
        do {
            try await execute(JobRunQueries.notifyStarted(attempts, workerID: workerID))
        } catch where isWorthRetrying(error) {
            throw error
        } catch {
            for attempt in attempts where attempts.count > 1 {
                do {
                    try await execute(JobRunQueries.notifyStarted([attempt], workerID: workerID))
                } catch where isWorthRetrying(error) {
                    throw error
                } catch {
                    logger.warning(
                        "could not send a started event; dropped it",
                        metadata: ["error": "\(error)", "porter.job.id": "\(attempt.job.id)"])
                }
            }
            if attempts.count == 1 {
                logger.warning(
                    "could not send a started event; dropped it",
                    metadata: ["error": "\(error)", "porter.job.id": "\(attempts[0].job.id)"])
            }
        }
        for attempt in attempts { attempt.startedEventSent() }
    }

    /// Writes a batch of ends, splitting it around any job that makes it fail.
    private func write(_ batch: [Completion]) async throws {
        var parts: [ArraySlice<Completion>] = batch.isEmpty ? [] : [batch.sorted { $0.attempt.job.id < $1.attempt.job.id }[...]]
        while let part = parts.popLast() {
            do {
                try await execute(setState(part.map { ($0.attempt.key, $0.transition) }))
                for completion in part { observe(completion.attempt, completion.transition.status, ran: completion.ran) }
            } catch where isWorthRetrying(error) {
                pending = Array(part) + parts.reversed().flatMap { $0 } + pending
                throw error
            } catch {
                guard part.count > 1 else {
                    do {
                        try await recordUnwritable(part.first!, error)
                    } catch {
                        pending = Array(part) + parts.reversed().flatMap { $0 } + pending
                        throw error
                    }
                    continue
                }
                // The first half is written first, so the rows stay locked in id order.
                let middle = part.startIndex + part.count / 2
                parts.append(part[middle...])
                parts.append(part[..<middle])
            }
        }
    }

    /// The end of `completion` cannot be written (its result is refused, a trigger fails on
    /// it, …): fail the job instead, saying why, so that it does not stay started. Tried with
    /// job events, then without; if even that fails, the job stays started until this worker
    /// stops and is rescued. Throws only for a transient failure.
    private func recordUnwritable(_ completion: Completion, _ error: any Error) async throws {
        let job = completion.attempt.job
        let message = "Porter could not record this attempt's end (\(completion.transition.status.rawValue)): \(AttemptEnd.describe(error)); the job was failed instead"
        logger.error(
            "could not record a job's end; failing it instead",
            metadata: ["porter.job.id": "\(job.id)", "error": "\(error)"])
        let failed = JobTransition(status: .failed, error: message)
        for jobEvents in [configuration.jobEvents, false] {
            do {
                try await execute(JobRunQueries.endAttempts([(completion.attempt.key, failed)], workerID: workerID, jobEvents: jobEvents))
                observe(completion.attempt, .failed, ran: completion.ran)
                return
            } catch where isWorthRetrying(error) {
                throw error
            } catch {
                continue
            }
        }
        logger.error(
            "could not fail the job either; it stays started until this worker stops and the rescuer requeues it",
            metadata: ["porter.job.id": "\(job.id)"])
    }

    private func setState(_ transitions: [(JobAttempt.Key, JobTransition)]) -> PQQuery {
        JobRunQueries.endAttempts(transitions, workerID: workerID, jobEvents: configuration.jobEvents)
    }

    private func execute(_ query: PQQuery) async throws {
        // Cancelled at the shutdown deadline: write nothing more.
        try Task.checkCancellation()
        try await pool.query(statements.statement(query))
    }

    /// A failure that says nothing about the batch, so the same batch is tried again: a
    /// transient one (`isTransient`), or a prepared statement that met a shared server session
    /// (the retry runs it unprepared).
    private func isWorthRetrying(_ error: any Error) -> Bool {
        Self.isTransient(error) || statements.isSharedSessionError(error)
    }

    /// The connection went away, the transaction lost a deadlock or a serialization conflict
    /// (class 40) or a lock timeout (55P03), or the completer was cancelled (which also cancels
    /// its statement on the server). Anything else is the batch's own fault and splits it.
    static func isTransient(_ error: any Error) -> Bool {
        if error is CancellationError || Task.isCancelled { return true }
        guard let error = error as? PQError else { return false }
        if error.isConnectionLost { return true }
        guard let state = error.sqlState else { return false }
        return state.class == SQLState.Class(rawValue: "40") || state == SQLState("55P03")
    }

    /// Shutdown's time is up: says what was not written, and lets everything waiting go.
    private func giveUp() {
        takeArrived()
        if !pending.isEmpty {
            logger.error(
                "gave up recording job outcomes at shutdown; the rescuer will requeue these jobs",
                metadata: [
                    "porter.jobs": "\(pending.map(\.attempt.job.id))",
                    "porter.outcomes": "\(pending.map(\.transition.status.rawValue))",
                ])
        }
        for completion in pending { owned.released(completion.attempt.key) }
        pending.removeAll()
        for attempt in unannounced { attempt.startedEventSent() }
        unannounced.removeAll()
    }
}
