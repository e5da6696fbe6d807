/// One queue's settings, under Frappe's keys in the config file's `workers` object.
public struct QueueConfiguration: Sendable, Hashable {
    /// Seconds a job may run unless it sets its own `timeout`. Key `timeout`. Default: 300
    /// (`long`: 1500); ``EnqueueOptions/timeoutRange``, as for a job's own.
    public var timeout: Int
    /// Jobs of this queue one worker process runs at once. Key `background_workers`. Default: 1;
    /// ``backgroundWorkersRange``.
    public var backgroundWorkers: Int
    /// Attempts before a job fails for good, unless it sets its own. Key `max_attempts`.
    /// Default: 1, as in Frappe (no retries); ``EnqueueOptions/maxAttemptsRange``, as for a job's own.
    public var maxAttempts: Int

    /// The job slots a queue may have in one worker: 1 to 10,000. `porter worker` sizes its
    /// connection pool to the sum over the queues it serves, which this keeps far from
    /// overflowing (and a server's `max_connections` is far lower anyway).
    public static let backgroundWorkersRange = 1...10_000

    /// A queue's settings; the defaults are Frappe's: 300 s, one job at a time, no retries.
    public init(timeout: Int = 300, backgroundWorkers: Int = 1, maxAttempts: Int = 1) {
        self.timeout = timeout
        self.backgroundWorkers = backgroundWorkers
        self.maxAttempts = maxAttempts
    }

    /// Frappe's built-in queues: `short` 300 s, `default` 300 s, `long` 1500 s.
    public static let builtIn: [String: QueueConfiguration] = [
        "short": QueueConfiguration(timeout: 300),
        "default": QueueConfiguration(timeout: 300),
        "long": QueueConfiguration(timeout: 1500),
    ]
}

extension QueueConfiguration {
    /// `name`'s settings in `queues`; a queue not listed gets the `default` queue's, and
    /// without one, the defaults. Workers and `now` runs both go by it.
    static func settings(of name: String, in queues: [String: QueueConfiguration]) -> QueueConfiguration {
        queues[name] ?? queues["default"] ?? QueueConfiguration()
    }

    /// A job's timeout in seconds: its own (`porter.jobs.timeout`), else its queue's in
    /// `queues`. Workers and `now` runs both go by it.
    static func timeout(ofJob jobTimeout: Int?, queue: String, in queues: [String: QueueConfiguration]) -> Int {
        jobTimeout ?? settings(of: queue, in: queues).timeout
    }
}
