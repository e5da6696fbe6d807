/// How a worker's span for an attempt relates to the span that enqueued the job.
///
/// OpenTelemetry's messaging conventions link a consumer to its producer: the job may run
/// long after the request that queued it ended, and each retry is another attempt of the same
/// enqueue. `child` makes the attempt a child of the enqueue's span instead, so that a trace
/// viewer draws the job inside the request's trace tree.
public enum TraceParenting: String, Sendable, Hashable, CaseIterable {
    /// The attempt's span starts a trace of its own, linked to the enqueue's context. The default.
    case link
    /// The attempt's span is a child of the enqueue's span, in its trace.
    case child
}
