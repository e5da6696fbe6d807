import Logging
import PorterPostgres

/// Writes back what a worker's jobs did, in order: the `started` events of fresh claims, then
/// job outcomes in batches. Whatever arrived while the previous batch was being written goes
/// in the next statement, so a busy worker completes many jobs per round trip and an idle one
/// completes each job at once.
///
/// A job's `started` event goes out before its outcome is written, and before an `sql:` job
/// or `JobContext.finish` commits the job's end in its own transaction (`startedEventSent`),
/// so a listener sees a job start before it ends. A worker that dies between a claim and the
/// next write sends no `started` event for that attempt; the job's rescue sends `queued`.
///
/// A write that fails because the database is away is kept and tried again; if the worker
/// dies first, the rescuer requeues the jobs, so nothing is lost.
actor JobCompleter {
    struct Completion: Sendable {
        var job: ClaimedJob
        var outcome: JobOutcome
    }

    private let pool: PostgresPool
    private let workerID: String
    private let configuration: WorkerConfiguration
    private let logger: Logger
    private var pending: [Completion] = []
    /// Claimed jobs whose `started` event is not sent yet, and the tasks waiting for one.
    private var unannounced: [ClaimedJob] = []
    private var unannouncedRuns: Set<RunningJobs.Run> = []
    private var announcementWaiters: [RunningJobs.Run: [Int: CheckedContinuation<Void, Never>]] = [:]
    private var nextWaiter = 0
    private let signal = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))

    init(pool: PostgresPool, workerID: String, configuration: WorkerConfiguration, logger: Logger) {
        self.pool = pool
        self.workerID = workerID
        self.configuration = configuration
        self.logger = logger
    }

    /// Queues the `started` events of jobs just claimed.
    func started(_ jobs: [ClaimedJob]) {
        unannounced += jobs
        for job in jobs { unannouncedRuns.insert(job.run) }
        signal.continuation.yield()
    }

    /// Returns once the job's `started` event has been sent (or given up on), or when the
    /// calling task is cancelled.
    func startedEventSent(_ run: RunningJobs.Run) async {
        guard unannouncedRuns.contains(run) else { return }
        nextWaiter += 1
        let token = nextWaiter
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                announcementWaiters[run, default: [:]][token] = continuation
            }
        } onCancel: {
            Task { await self.stopWaiting(for: run, token: token) }
        }
    }

    private func stopWaiting(for run: RunningJobs.Run, token: Int) {
        announcementWaiters[run]?.removeValue(forKey: token)?.resume()
    }

    /// Queues an outcome for the next batch.
    func submit(_ job: ClaimedJob, _ outcome: JobOutcome) {
        if case .alreadyCompleted = outcome { return }
        pending.append(Completion(job: job, outcome: outcome))
        signal.continuation.yield()
    }

    /// Writes batches until `finish()`, then writes what is left and returns.
    func run() async {
        for await _ in signal.stream {
            await writePending(giveUpAfter: nil)
        }
        await writePending(giveUpAfter: configuration.shutdownGrace)
    }

    /// Ends `run()` once everything submitted so far is written.
    nonisolated func finish() {
        signal.continuation.finish()
    }

    private func writePending(giveUpAfter limit: Duration?) async {
        let clock = ContinuousClock()
        let start = clock.now
        var delay = Duration.milliseconds(50)
        while !unannounced.isEmpty || !pending.isEmpty {
            do {
                try await announcePending()
                try await completePending()
                delay = .milliseconds(50)
            } catch {
                logger.info(
                    "could not record job outcomes; retrying",
                    metadata: ["error": "\(error)", "porter.jobs": "\(pending.count)"])
                if let limit, clock.now - start > limit {
                    logger.info("gave up recording job outcomes at shutdown; the rescuer will requeue these jobs", metadata: ["porter.jobs": "\(pending.count)"])
                    pending.removeAll()
                    announced(unannounced)
                    unannounced.removeAll()
                    return
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }

    /// Sends the pending `started` events. Only a lost connection is worth retrying: any other
    /// error drops them with a log line rather than hold up the outcomes behind them.
    private func announcePending() async throws {
        guard !unannounced.isEmpty else { return }
        let batch = unannounced
        unannounced.removeAll()
        do {
            let announce = WorkerQueries.announceStarted(Self.encodeStarted(batch))
            try await pool.query(configuration.preparedStatements ? announce.prepared() : announce)
        } catch let error as PostgresError where error.isConnectionLost {
            unannounced = batch + unannounced
            throw error
        } catch {
            logger.warning("could not send started events; dropped them", metadata: ["error": "\(error)", "porter.jobs": "\(batch.count)"])
        }
        announced(batch)
    }

    private func announced(_ jobs: [ClaimedJob]) {
        for job in jobs {
            unannouncedRuns.remove(job.run)
            for waiter in (announcementWaiters.removeValue(forKey: job.run) ?? [:]).values { waiter.resume() }
        }
    }

    private func completePending() async throws {
        guard !pending.isEmpty else { return }
        let batch = pending
        pending.removeAll()
        do {
            try await write(batch)
        } catch {
            pending = batch + pending
            throw error
        }
    }

    private func write(_ batch: [Completion]) async throws {
        let (json, requeue) = encode(batch)
        if let json {
            let complete = WorkerQueries.complete(json, workerID: workerID, jobEvents: configuration.jobEvents)
            try await pool.query(configuration.preparedStatements ? complete.prepared() : complete)
        }
        if !requeue.isEmpty {
            try await pool.query(WorkerQueries.requeue(ids: requeue, workerID: workerID))
            logger.info("put jobs back in the queue at shutdown", metadata: ["porter.jobs": "\(requeue)"])
        }
    }

    /// Claimed jobs as the JSON that `WorkerQueries.announceStarted` takes.
    private static func encodeStarted(_ jobs: [ClaimedJob]) -> PostgresJSON {
        var json = "["
        for (index, job) in jobs.enumerated() {
            if index > 0 { json += "," }
            json += "{\"id\":\(job.id),\"attempt\":\(job.attempt),\"method\":"
            JSONElementValue.writeString(job.method, to: &json)
            json += ",\"queue\":"
            JSONElementValue.writeString(job.queue, to: &json)
            json += "}"
        }
        return PostgresJSON(text: json + "]")
    }

    /// The batch as the JSON that `WorkerQueries.complete` takes (nil when empty), and the
    /// ids to requeue. A failure becomes a retry while attempts remain.
    private nonisolated func encode(_ batch: [Completion]) -> (json: PostgresJSON?, requeue: [Int64]) {
        var requeue: [Int64] = []
        var json = "["
        var empty = true
        // In id order: the UPDATE's current plan probes the jobs in this order and so locks
        // them in it, the same order in which an enqueue with depends_on locks its parents.
        for completion in batch.sorted(by: { $0.job.id < $1.job.id }) {
            let job = completion.job
            let status: String
            var result = "null"
            var error: String?
            var retryIn = 0.0
            switch completion.outcome {
            case .finished(let value):
                status = "finished"
                result = value?.text ?? "null"
            case .failed(let message, let retryable):
                let maxAttempts = job.maxAttempts ?? configuration.queue(job.queue).maxAttempts
                if retryable && job.attempt < maxAttempts {
                    status = "scheduled"
                    retryIn = configuration.retryPolicy.delay(afterAttempt: job.attempt).seconds
                } else {
                    status = "failed"
                }
                error = message
            case .canceled:
                status = "canceled"
                error = "canceled while running (porter cancel)"
            case .requeue:
                requeue.append(job.id)
                continue
            case .alreadyCompleted:
                continue
            }
            if !empty { json += "," }
            empty = false
            json += "{\"id\":\(job.id),\"attempt\":\(job.attempt),\"status\":\"\(status)\",\"result\":\(result),\"retry_in\":\(retryIn),\"error\":"
            if let error { JSONElementValue.writeString(error, to: &json) } else { json += "null" }
            json += "}"
        }
        return (empty ? nil : PostgresJSON(text: json + "]"), requeue)
    }
}
