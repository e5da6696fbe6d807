import Foundation
import Metrics

/// The swift-metrics handles for the jobs of one queue and method (`PorterMetrics`), made once
/// per process and kept: an attempt carries its handles from claim to end, so recording costs
/// no lookup on the worker's path.
///
/// swift-metrics binds a handle to the backend bootstrapped when it is made: bootstrap
/// (`MetricsSystem.bootstrap`) before the first job is enqueued or claimed, as swift-metrics asks.
final class JobMetrics: Sendable {
    let enqueued: Counter
    let started: Counter
    let finished: Counter
    let failed: Counter
    let retried: Counter
    let canceled: Counter
    let run: Timer
    /// The handles of the job's queue.
    let queue: QueueMetrics

    private init(queue: String, method: String) {
        self.queue = QueueMetrics.of(queue)
        let dimensions = [(PorterMetrics.queueDimension, queue), (PorterMetrics.methodDimension, method)]
        enqueued = Counter(label: PorterMetrics.jobsEnqueued, dimensions: dimensions)
        started = Counter(label: PorterMetrics.jobsStarted, dimensions: dimensions)
        finished = Counter(label: PorterMetrics.jobsFinished, dimensions: dimensions)
        failed = Counter(label: PorterMetrics.jobsFailed, dimensions: dimensions)
        retried = Counter(label: PorterMetrics.jobsRetried, dimensions: dimensions)
        canceled = Counter(label: PorterMetrics.jobsCanceled, dimensions: dimensions)
        run = Timer(label: PorterMetrics.jobRun, dimensions: dimensions)
    }

    private static let cache = HandleCache<JobMetricsKey, JobMetrics>()

    /// The handles of `method`'s jobs in `queue`.
    static func of(queue: String, method: String) -> JobMetrics {
        cache.value(for: JobMetricsKey(queue: queue, method: method)) { JobMetrics(queue: queue, method: method) }
    }

    /// Records what the end of an attempt did to its job, and how long the attempt ran.
    func record(_ status: JobTransition.Status, ran: Duration) {
        switch status {
        case .finished: finished.increment()
        case .failed: failed.increment()
        case .scheduled: retried.increment()
        case .canceled: canceled.increment()
        case .queued: break  // given back at shutdown: not an outcome
        }
        let (seconds, attoseconds) = ran.components
        run.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// Whether the app bootstrapped a metrics backend; without one, nothing reads the gauges
    /// that cost a query.
    static var backendBootstrapped: Bool { !(MetricsSystem.factory is NOOPMetricsHandler) }
}
