import Foundation
import Logging
import PorterPostgres

/// What a worker does with the jobs it claims but cannot run, as during a rolling deploy, when
/// workers of the old build meet job types only the new one knows.
///
/// When another live worker serving the job's queue can run it (by the `methods` each worker
/// records, see `HandlerCoverage`), the job is handed back untouched: queued again, no attempt
/// used, no error, no events, waking the queue's workers. From then on this worker's claims
/// skip jobs of that name. Only when no live worker can run it does the job fail at once, as
/// Frappe fails an unknown method, with an error naming the method and the live workers.
///
/// A skipped name is checked again at every maintenance pass: once no live worker can run it
/// (the new build's workers stopped), it is no longer skipped, so the next claim fails the
/// jobs instead of leaving them queued for ever.
final class ForeignJobs: @unchecked Sendable {
    let coverage: HandlerCoverage
    private let workerID: String
    private let pool: PQPool
    private let configuration: WorkerConfiguration
    private let logger: Logger
    private let lock = NSLock()
    /// By queue, the names of jobs this worker hands back.
    private var skipped: [String: Set<String>] = [:]

    init(coverage: HandlerCoverage, workerID: String, pool: PQPool, configuration: WorkerConfiguration, logger: Logger) {
        self.coverage = coverage
        self.workerID = workerID
        self.pool = pool
        self.configuration = configuration
        self.logger = logger
    }

    /// The names this worker's claims skip in `queue`.
    func skipped(in queue: String) -> Set<String> {
        lock.withLock { skipped[queue] ?? [] }
    }

    /// Splits claimed jobs into those this worker can run, which it returns, and the others,
    /// which it hands back or fails (through `completer`, after their `started` events).
    func settle(_ jobs: [ClaimedJob], completer: JobCompleter) async -> [ClaimedJob] {
        var runnable: [ClaimedJob] = []
        var foreign: [(job: ClaimedJob, refusal: String)] = []
        for job in jobs {
            if let refusal = coverage.refusal(for: job) { foreign.append((job, refusal)) } else { runnable.append(job) }
        }
        guard !foreign.isEmpty else { return runnable }
        let live: [LiveWorker]
        do {
            live = try await liveWorkers()
        } catch {
            // Without knowing who else can run them, give them back rather than fail them.
            logger.info("could not read the live workers; handing back jobs this worker cannot run", metadata: ["error": "\(error)"])
            for (job, _) in foreign { completer.ended(attempt(job), .handedBack) }
            return runnable
        }
        var handBack: [ClaimedJob] = []
        var fail: [(JobAttempt, String)] = []
        for (job, refusal) in foreign {
            let name = HandlerCoverage.name(of: job)
            if live.contains(where: { $0.id != workerID && $0.queues.contains(job.queue) && HandlerCoverage.covers($0.methods, name) }) {
                handBack.append(job)
            } else {
                let others = live.map(\.id).joined(separator: ", ")
                fail.append((attempt(job), "\(refusal); no live worker serving queue \(job.queue) can run \(name) (live workers: \(others.isEmpty ? "none" : others))"))
            }
        }
        if !handBack.isEmpty { await handOver(handBack, completer: completer) }
        if !fail.isEmpty {
            await completer.claimed(fail.map(\.0))
            for (attempt, message) in fail { completer.ended(attempt, .threw(message, permanent: true)) }
        }
        return runnable
    }

    /// Forgets the skipped names no live worker can run any more; returns the queues whose
    /// claims no longer skip something, so their claimers can be woken.
    func refresh() async -> Set<String> {
        let snapshot = lock.withLock { skipped }
        guard !snapshot.isEmpty else { return [] }
        guard let live = try? await liveWorkers() else { return [] }
        var changed: Set<String> = []
        lock.withLock {
            for (queue, names) in skipped {
                let kept = names.filter { name in
                    live.contains { $0.id != workerID && $0.queues.contains(queue) && HandlerCoverage.covers($0.methods, name) }
                }
                if kept.count < names.count {
                    changed.insert(queue)
                    skipped[queue] = kept.isEmpty ? nil : kept
                }
            }
        }
        if !changed.isEmpty {
            logger.info("no live worker can run some jobs this worker handed back; it claims and fails them now", metadata: ["porter.queues": "\(changed.sorted())"])
        }
        return changed
    }

    // MARK: -

    private struct LiveWorker {
        var id: String
        var queues: [String]
        var methods: [String]
    }

    private func liveWorkers() async throws -> [LiveWorker] {
        try await pool.query(WorkerQueries.listLive(rescueAfter: configuration.rescueAfter)).map { row in
            let (id, queues, methods) = try row.decode((String, [String], [String]).self)
            return LiveWorker(id: id, queues: queues, methods: methods)
        }
    }

    private func attempt(_ job: ClaimedJob) -> JobAttempt {
        JobAttempt(job: job, workerID: workerID, jobEvents: configuration.jobEvents, metrics: JobMetrics.of(queue: job.queue, method: job.method))
    }

    /// Gives jobs back untouched, without state events (their claim sent none either), and
    /// wakes their queues' workers. Should that fail, the completer gives them back instead.
    private func handOver(_ jobs: [ClaimedJob], completer: JobCompleter) async {
        lock.withLock {
            for job in jobs { skipped[job.queue, default: []].insert(HandlerCoverage.name(of: job)) }
        }
        let back = JobTransition(status: .queued)
        do {
            try await pool.query(JobRunQueries.endAttempts(
                jobs.map { (JobAttempt.Key(id: $0.id, attempt: $0.attempt), back) }, workerID: workerID, jobEvents: false))
            for queue in Set(jobs.map(\.queue)) { try await pool.query(JobRunQueries.notifyWaiting(queue: queue)) }
            logger.info(
                "handed back jobs another live worker can run",
                metadata: ["porter.jobs": "\(jobs.map(\.id))", "porter.methods": "\(Set(jobs.map(HandlerCoverage.name(of:))).sorted())"])
        } catch {
            logger.info("could not hand back jobs; the completer will", metadata: ["error": "\(error)"])
            for job in jobs { completer.ended(attempt(job), .handedBack) }
        }
    }
}
