import Foundation

/// The figures of `porter stats`, `PorterClient.stats()` and `SELECT porter.stats()`: per
/// queue, and the live workers' slots. Decoded from porter.stats()'s JSON, whose keys are a
/// contract for scripts and other languages.
public struct PorterStats: Sendable, Hashable, Codable {
    /// One queue's figures.
    public struct Queue: Sendable, Hashable, Codable {
        /// The queue's name.
        public var queue: String
        /// Waiting jobs that may run now (status queued, or scheduled with its run_at passed).
        public var queued: Int
        /// Waiting jobs whose run_at is in the future (delayed jobs, retries in backoff).
        public var scheduled: Int
        /// Jobs waiting for their `depends_on` parents.
        public var deferred: Int
        /// Jobs running now.
        public var started: Int
        /// Jobs that failed for good in the last hour.
        public var failedLastHour: Int
        /// Jobs that failed for good in the last day.
        public var failedLastDay: Int
        /// Jobs the live workers finished in the last minute.
        public var finishedPerMinute: Int
        /// How long the oldest job that may run now has waited; 0 when none waits.
        public var lagSeconds: Double
        /// Wait (from when a job could run to its start) and run time percentiles over the last
        /// five minutes, from the live workers; nil without samples. Within 9 % of the exact value.
        public var waitP50Seconds: Double?
        /// The 95th percentile of the wait, as `waitP50Seconds` is the median.
        public var waitP95Seconds: Double?
        /// The median run time, from start to end, over the last five minutes; nil without samples.
        public var runP50Seconds: Double?
        /// The 95th percentile of the run time.
        public var runP95Seconds: Double?
        /// Whether `porter pause` paused the queue.
        public var paused: Bool
        /// The live workers' slots for this queue.
        public var slots: Int
        /// How many of this queue's slots run a job.
        public var slotsBusy: Int

        enum CodingKeys: String, CodingKey {
            case queue, queued, scheduled, deferred, started, paused, slots
            case failedLastHour = "failed_last_hour", failedLastDay = "failed_last_day"
            case finishedPerMinute = "finished_per_minute", lagSeconds = "lag_seconds"
            case waitP50Seconds = "wait_p50_seconds", waitP95Seconds = "wait_p95_seconds"
            case runP50Seconds = "run_p50_seconds", runP95Seconds = "run_p95_seconds"
            case slotsBusy = "slots_busy"
        }
    }

    /// Each queue's figures, one entry per queue.
    public var queues: [Queue]
    /// Live workers: their last heartbeat is more recent than their `rescue_after`.
    public var workers: Int
    /// The live workers' slots running a job.
    public var slotsBusy: Int
    /// All the live workers' slots.
    public var slots: Int
    /// The database's time when the figures were read.
    public var at: Date

    enum CodingKeys: String, CodingKey {
        case queues, workers, slots, at
        case slotsBusy = "slots_busy"
    }

    /// One queue's figures, if the queue appears.
    public subscript(queue name: String) -> Queue? {
        queues.first { $0.queue == name }
    }
}
