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

    /// One flow-control limit (`porter.limits`) with what runs against it and what waits
    /// because of it (porter.limit_stats(), migration 0023).
    public struct Limit: Sendable, Hashable, Codable {
        /// The limit as it is set.
        public var limit: QueueLimit
        /// Jobs of the limit's scope that run now (started and not ended).
        public var running: Int
        /// Jobs of the limit's scope that may run now but wait because the scope is full (its
        /// running jobs or its starts in the window are at the limit). A job can wait because of
        /// its queue's limit and its key's at once, and is then counted under both.
        public var waiting: Int

        /// Decodes porter.limit_stats()'s object: the limit's keys beside running and waiting.
        public init(from decoder: any Decoder) throws {
            limit = try QueueLimit(from: decoder)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            running = try container.decode(Int.self, forKey: .running)
            waiting = try container.decode(Int.self, forKey: .waiting)
        }

        /// Encodes the object porter.limit_stats() returns.
        public func encode(to encoder: any Encoder) throws {
            try limit.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(running, forKey: .running)
            try container.encode(waiting, forKey: .waiting)
        }

        enum CodingKeys: String, CodingKey {
            case running, waiting
        }
    }

    /// Each queue's figures, one entry per queue.
    public var queues: [Queue]
    /// Each flow-control limit with its running and held-back jobs; empty when none is set.
    public var limits: [Limit]
    /// Live workers: their last heartbeat is more recent than their `rescue_after`.
    public var workers: Int
    /// The live workers' slots running a job.
    public var slotsBusy: Int
    /// All the live workers' slots.
    public var slots: Int
    /// The database's time when the figures were read.
    public var at: Date

    enum CodingKeys: String, CodingKey {
        case queues, workers, slots, at, limits
        case slotsBusy = "slots_busy"
    }

    /// Decodes porter.stats()'s object; one from a schema before migration 0023 has no limits.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        queues = try container.decode([Queue].self, forKey: .queues)
        workers = try container.decode(Int.self, forKey: .workers)
        slotsBusy = try container.decode(Int.self, forKey: .slotsBusy)
        slots = try container.decode(Int.self, forKey: .slots)
        at = try container.decode(Date.self, forKey: .at)
        limits = try container.decodeIfPresent([Limit].self, forKey: .limits) ?? []
    }

    /// One queue's figures, if the queue appears.
    public subscript(queue name: String) -> Queue? {
        queues.first { $0.queue == name }
    }
}
