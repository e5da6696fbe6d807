import Metrics

/// The swift-metrics gauge of one flow-control limit (`PorterMetrics.limitWaiting`), made once
/// per process. Limits are rows an operator sets, so their number, and the gauges', stays small.
final class LimitMetrics: Sendable {
    let waiting: Gauge

    private init(_ key: Key) {
        waiting = Gauge(
            label: PorterMetrics.limitWaiting,
            dimensions: [
                (PorterMetrics.queueDimension, key.queue), (PorterMetrics.scopeDimension, key.scope),
                (PorterMetrics.limitKeyDimension, key.limitKey),
            ])
    }

    /// What names one limit's gauge.
    struct Key: Hashable, Sendable {
        var queue: String
        var scope: String
        var limitKey: String
    }

    private static let cache = HandleCache<Key, LimitMetrics>()

    /// The gauge of `limit`.
    static func of(_ limit: QueueLimit) -> LimitMetrics {
        let key = Key(queue: limit.queue, scope: limit.scope, limitKey: limit.limitKey ?? "")
        return cache.value(for: key) { LimitMetrics(key) }
    }
}
