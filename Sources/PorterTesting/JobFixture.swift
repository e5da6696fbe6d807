import Foundation
import Porter
import PorterPostgres

/// A job row to write straight into `porter.jobs`, for a test that needs a job in a given state
/// (started by a worker that died, failed after three attempts, due an hour ago) without
/// running the steps that lead there. River's test factory, for Porter.
///
/// The row skips `porter.enqueue`'s rules but not the table's constraints: an ended job gets
/// `ended_at`, a started one `started_at` and a worker, unless given. Write it with
/// `PorterClient.insertJob(_:)`.
public struct JobFixture: Sendable {
    /// `porter.jobs.method`.
    public var method: String
    /// The arguments, a JSON object. Default: `{}`.
    public var args: PQJSON
    /// Default: `default`.
    public var queue: String
    /// Default: `queued`.
    public var status: JobStatus
    /// Default: none.
    public var jobID: String?
    /// Default: 0.
    public var priority: Int
    /// Default: 1 for a started or ended job, else 0.
    public var attempts: Int?
    /// Default: none (the queue's).
    public var maxAttempts: Int?
    /// Default: now.
    public var runAt: Date?
    /// Default: now.
    public var enqueuedAt: Date?
    /// Default: now for a started or ended job, else none.
    public var startedAt: Date?
    /// Default: now for an ended job, else none.
    public var endedAt: Date?
    /// Default: `test-worker` for a started job, else none.
    public var workerID: String?
    /// The last error. Default: none.
    public var error: String?
    /// How often it was orphaned already. Default: 0.
    public var orphaned: Int
    /// The jobs it waits for (a `deferred` job needs some). Default: none.
    public var dependsOn: [Int64]

    /// A fixture of `method` in `status`; the rest at the defaults each property states.
    public init(
        method: String, args: PQJSON = PQJSON(text: "{}"), queue: String = "default", status: JobStatus = .queued,
        jobID: String? = nil
    ) {
        self.method = method
        self.args = args
        self.queue = queue
        self.status = status
        self.jobID = jobID
        self.priority = 0
        self.orphaned = 0
        self.dependsOn = []
    }

    /// A fixture of a typed job: its method, and its arguments as the enqueue would store them.
    public init<J: Job>(_ job: J, queue: String = "default", status: JobStatus = .queued, jobID: String? = nil) throws {
        self.init(method: J.method, args: try PQJSON(encoding: job), queue: queue, status: status, jobID: jobID)
    }

    /// The INSERT that writes it, returning the new id; served by jobs_pkey.
    var insert: PQQuery {
        let begun = status == .started || status.isEnded
        return """
            INSERT INTO porter.jobs (method, args, queue, status, job_id, priority, attempts, max_attempts, run_at,
                                     enqueued_at, started_at, ended_at, worker_id, error, orphaned, depends_on)
            VALUES (\(method), \(args)::jsonb, \(queue), \(status.rawValue), \(jobID), \(priority),
                    \(attempts ?? (begun ? 1 : 0)), \(maxAttempts),
                    coalesce(\(runAt)::timestamptz, now()), coalesce(\(enqueuedAt)::timestamptz, now()),
                    coalesce(\(startedAt)::timestamptz, CASE WHEN \(begun) THEN now() END),
                    coalesce(\(endedAt)::timestamptz, CASE WHEN \(status.isEnded) THEN now() END),
                    coalesce(\(workerID), CASE WHEN \(status == .started) THEN 'test-worker' END),
                    \(error), \(orphaned), \(dependsOn.isEmpty ? nil : dependsOn)::bigint[])
            RETURNING id
            """
    }
}
