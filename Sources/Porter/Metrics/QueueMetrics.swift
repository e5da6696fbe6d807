import Metrics

/// The swift-metrics handles for one queue (`PorterMetrics`), made once per process.
final class QueueMetrics: Sendable {
    let wait: Timer
    let rescued: Counter
    let slotsBusy: Meter
    let slots: Gauge
    let depth: Gauge
    let lag: Gauge

    private init(queue: String) {
        let dimensions = [(PorterMetrics.queueDimension, queue)]
        wait = Timer(label: PorterMetrics.jobWait, dimensions: dimensions)
        rescued = Counter(label: PorterMetrics.jobsRescued, dimensions: dimensions)
        slotsBusy = Meter(label: PorterMetrics.workerSlotsBusy, dimensions: dimensions)
        slots = Gauge(label: PorterMetrics.workerSlots, dimensions: dimensions)
        depth = Gauge(label: PorterMetrics.queueDepth, dimensions: dimensions)
        lag = Gauge(label: PorterMetrics.queueLag, dimensions: dimensions)
    }

    private static let cache = HandleCache<String, QueueMetrics>()

    /// The handles of `queue`.
    static func of(_ queue: String) -> QueueMetrics {
        cache.value(for: queue) { QueueMetrics(queue: queue) }
    }
}
