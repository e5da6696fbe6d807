/// Every metric Porter records, in one place: its name, what it counts and its dimensions.
///
/// Porter records them through swift-metrics, so they reach whatever backend the app
/// bootstrapped with `MetricsSystem.bootstrap` (Prometheus, StatsD, OpenTelemetry, ...); with
/// none, they cost next to nothing. `porter worker --metrics-port N` serves them at
/// `/metrics` in Prometheus's text format. Counters and timers are this process's own: sum them
/// over processes. The queue gauges are read from the database, so every worker serving a
/// queue reports the same value: take their maximum.
public enum PorterMetrics {
    /// Counter: jobs enqueued through this process's `PorterClient` (an enqueue from SQL or
    /// another client is seen by no process; watch `queueDepth`). Dimensions: queue, method.
    public static let jobsEnqueued = "porter_jobs_enqueued_total"
    /// Counter: attempts this process's workers claimed. Dimensions: queue, method.
    public static let jobsStarted = "porter_jobs_started_total"
    /// Counter: attempts that finished. Dimensions: queue, method.
    public static let jobsFinished = "porter_jobs_finished_total"
    /// Counter: jobs that failed for good (no attempt left, or a failure no retry can fix).
    /// Dimensions: queue, method.
    public static let jobsFailed = "porter_jobs_failed_total"
    /// Counter: attempts that failed and were scheduled to run again. Dimensions: queue, method.
    public static let jobsRetried = "porter_jobs_retried_total"
    /// Counter: attempts stopped by `porter cancel`. Dimensions: queue, method.
    public static let jobsCanceled = "porter_jobs_canceled_total"
    /// Counter: started jobs of dead workers that this process's maintenance put back in the
    /// queue or failed as poison. Dimensions: queue.
    public static let jobsRescued = "porter_jobs_rescued_total"
    /// Timer (a histogram in Prometheus): how long a job waited, from when it could run (its
    /// run_at, or its enqueue if later) to its claim. Dimensions: queue.
    public static let jobWait = "porter_job_wait_seconds"
    /// Timer: how long an attempt ran, from its claim to its end. Dimensions: queue, method.
    public static let jobRun = "porter_job_run_seconds"
    /// Gauge: jobs of a queue this worker serves that may run now, read from the database
    /// every maintenance interval while a metrics backend is bootstrapped. Dimensions: queue.
    public static let queueDepth = "porter_queue_depth"
    /// Gauge: how long the oldest job that may run now has waited, read like `queueDepth`.
    /// Dimensions: queue.
    public static let queueLag = "porter_queue_lag_seconds"
    /// Gauge: jobs that may run now but wait because a flow-control limit is full, per limit
    /// (`porter.limits`), read from the database like `queueDepth` for the queues this worker
    /// serves. Dimensions: queue, scope (`queue`, `each key` or `key`), limit_key (empty but
    /// for a key's own limit).
    public static let limitWaiting = "porter_limit_waiting_jobs"
    /// Meter: this process's slots running a job. Dimensions: queue.
    public static let workerSlotsBusy = "porter_worker_slots_busy"
    /// Gauge: this process's slots (a queue's `background_workers`). Dimensions: queue.
    public static let workerSlots = "porter_worker_slots"

    /// The dimension naming a job's queue.
    public static let queueDimension = "queue"
    /// The dimension naming a job's method.
    public static let methodDimension = "method"
    /// The dimension naming a limit's scope: `queue`, `each key` or `key`.
    public static let scopeDimension = "scope"
    /// The dimension naming a key's own limit's key.
    public static let limitKeyDimension = "limit_key"

    /// Histogram buckets that suit the two timers in a backend that asks for them (Prometheus):
    /// a millisecond to an hour.
    public static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(900), .seconds(3600),
    ]
}
