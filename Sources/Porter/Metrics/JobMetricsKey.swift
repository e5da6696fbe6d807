/// A queue and a method, the dimensions of `JobMetrics`.
struct JobMetricsKey: Hashable, Sendable {
    var queue: String
    var method: String
}
