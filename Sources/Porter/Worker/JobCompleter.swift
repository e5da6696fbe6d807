import Logging
import PorterPostgres

/// Writes job outcomes back in batches: whatever finished while the previous batch was being
/// written goes in the next statement, so a busy worker completes many jobs per round trip and
/// an idle one completes each job at once.
///
/// A write that fails (the database is away) is kept and tried again; if the worker dies
/// first, the rescuer requeues the jobs, so nothing is lost.
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
    private let signal = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))

    init(pool: PostgresPool, workerID: String, configuration: WorkerConfiguration, logger: Logger) {
        self.pool = pool
        self.workerID = workerID
        self.configuration = configuration
        self.logger = logger
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
        while !pending.isEmpty {
            let batch = pending
            pending.removeAll()
            do {
                try await write(batch)
                delay = .milliseconds(50)
            } catch {
                pending = batch + pending
                logger.info("could not record job outcomes; retrying", metadata: ["error": "\(error)", "porter.jobs": "\(batch.count)"])
                if let limit, clock.now - start > limit {
                    logger.info("gave up recording job outcomes at shutdown; the rescuer will requeue these jobs", metadata: ["porter.jobs": "\(pending.count)"])
                    pending.removeAll()
                    return
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
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
