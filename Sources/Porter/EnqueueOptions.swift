import Foundation

/// How to enqueue a job. The options mirror `frappe.enqueue`'s keyword arguments.
public struct EnqueueOptions: Sendable, Hashable {
    /// The queue. Default: `default`. Frappe's built-in queues are `short`, `default` and `long`.
    public var queue: String
    /// Seconds the job may run, within ``timeoutRange``; `nil` uses the queue's timeout.
    /// Default: `nil`.
    public var timeout: Int?
    /// A key naming the work, for deduplication (Frappe's `job_id`). Default: `nil`.
    public var jobID: String?
    /// With a `jobID`: when an active job has the same key, enqueue nothing and report
    /// `.duplicate`. Without it, such a duplicate is an error. Default: `false`.
    public var deduplicate: Bool
    /// Run ahead of every job not at the front, whatever its priority. Default: `false`.
    public var atFront: Bool
    /// Run no earlier than this time. Default: `nil`, now.
    public var runAt: Date?
    /// Run no earlier than this long after enqueueing, by the database's clock. Default: `nil`.
    public var delay: Duration?
    /// Lower runs first; negative numbers jump ahead of the default. Within ``priorityRange``.
    /// Default: 0.
    public var priority: Int
    /// Attempts before the job is failed for good, within ``maxAttemptsRange``; `nil` uses the
    /// queue's (1 unless configured, as in Frappe). Default: `nil`.
    public var maxAttempts: Int?
    /// Ids of jobs that must finish first. The job waits with status `deferred` until every
    /// one has finished, and is canceled, naming the parent, when one fails or is canceled.
    /// Default: `[]`.
    public var dependsOn: [Int64]
    /// The key the queue's flow-control limits count this job by (a tenant, a franchise, a
    /// provider): see `porter.set_limit`. At most as many bytes as a method name. Default: `nil`,
    /// only the queue's own limits apply.
    public var limitKey: String?
    /// With a `jobID`: while a job with that key waits (not yet started), enqueueing again
    /// replaces its arguments and moves it to run this long after the latest enqueue, and
    /// returns its id; once it has started, the next enqueue makes a new job. Positive.
    /// Default: `nil`, no debounce.
    public var debounce: Duration?
    /// With `debounce`: the latest a debounced job may be moved to, counted from its first
    /// enqueue; at least `debounce`. Default: `nil`, no cap.
    public var debounceMax: Duration?
    /// The W3C `traceparent` of the span the job's attempts link to (or are children of):
    /// `version-traceid-parentid-flags` in lowercase hex, e.g.
    /// `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`. Default: `nil`, the context of
    /// the enqueue's own producer span when a tracer is bootstrapped, else none. A malformed
    /// value is refused with `PorterError.Code.invalidArgument` before anything is sent.
    public var traceparent: String?
    /// The W3C `tracestate` that came with `traceparent`, at most 512 bytes. Default: `nil`.
    public var tracestate: String?
    /// Run the job inline in the caller instead of enqueueing it, as Frappe's `now=True`
    /// does; for tests. It gets `timeout`, else its queue's in the client's `queues`, as a
    /// worker would give it. Default: `false`.
    public var now: Bool

    /// Options with every default as documented on each property: the `default` queue, no
    /// `jobID`, the queue's timeout and attempts, priority 0, no dependencies, no limit key, no debounce, no explicit trace context, now.
    public init(
        queue: String = "default",
        timeout: Int? = nil,
        jobID: String? = nil,
        deduplicate: Bool = false,
        atFront: Bool = false,
        runAt: Date? = nil,
        delay: Duration? = nil,
        priority: Int = 0,
        maxAttempts: Int? = nil,
        dependsOn: [Int64] = [],
        limitKey: String? = nil,
        debounce: Duration? = nil,
        debounceMax: Duration? = nil,
        traceparent: String? = nil,
        tracestate: String? = nil,
        now: Bool = false
    ) {
        self.queue = queue
        self.timeout = timeout
        self.jobID = jobID
        self.deduplicate = deduplicate
        self.atFront = atFront
        self.runAt = runAt
        self.delay = delay
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.dependsOn = dependsOn
        self.limitKey = limitKey
        self.debounce = debounce
        self.debounceMax = debounceMax
        self.traceparent = traceparent
        self.tracestate = tracestate
        self.now = now
    }

    /// The timeouts that work, in seconds: 1 to 2,147,483 (about 24.8 days). An `sql:` job runs
    /// under `statement_timeout`, which takes at most 2,147,483,647 milliseconds; the config
    /// file's `timeout` and `porter enqueue --timeout` accept no more.
    public static let timeoutRange = 1...2_147_483
    /// The priorities a job may have: −2,147,483,648 to 2,147,483,647, those of the `integer`
    /// column `porter.jobs.priority`.
    public static let priorityRange = Int(Int32.min)...Int(Int32.max)
    /// The `max_attempts` a job may have: 1 to 2,147,483,647, the range of the `integer` column
    /// `porter.jobs.max_attempts`.
    public static let maxAttemptsRange = 1...Int(Int32.max)

    /// The delay in seconds, as the SQL functions take it.
    var delaySeconds: Double? {
        delay.map(Self.seconds)
    }

    /// `debounce` in seconds, as porter.enqueue_many takes it.
    var debounceSeconds: Double? { debounce.map(Self.seconds) }

    /// `debounceMax` in seconds.
    var debounceMaxSeconds: Double? { debounceMax.map(Self.seconds) }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
