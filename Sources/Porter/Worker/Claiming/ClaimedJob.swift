import PorterPostgres

/// A job a worker has claimed: its row as the claim returned it.
struct ClaimedJob: Sendable {
    var id: Int64
    var jobID: String?
    var method: String
    var queue: String
    var args: PQJSON
    /// This run's attempt number (1 for the first).
    var attempt: Int
    var maxAttempts: Int?
    var timeout: Int?
    /// How many times the job was orphaned before this attempt: rescued from a dead worker, or
    /// its connection lost.
    var orphaned: Int
    /// Seconds from when the job could run (its run_at, or its enqueue if later) to this claim.
    var waitSeconds: Double
    /// The trace context the job was enqueued with, when the claim asked for it (a worker that
    /// traces, `JobRunQueries.claimAvailable(withTraceContext:)`).
    var traceHeaders: TraceHeaders?

    init(
        id: Int64, jobID: String? = nil, method: String, queue: String, args: PQJSON, attempt: Int = 1,
        maxAttempts: Int? = nil, timeout: Int? = nil, orphaned: Int = 0, waitSeconds: Double = 0
    ) {
        (self.id, self.jobID, self.method, self.queue, self.args) = (id, jobID, method, queue, args)
        (self.attempt, self.maxAttempts, self.timeout, self.orphaned, self.waitSeconds) = (attempt, maxAttempts, timeout, orphaned, waitSeconds)
    }

    /// The jobs of a claim's answer (`JobRunQueries.claimAvailable`), and the seconds until a
    /// full rate window of the queue frees a start, when the answer says (its row with no id).
    static func answer(_ rows: PQRows, withTraceContext: Bool = false) throws -> (jobs: [ClaimedJob], rateRoomIn: Double?) {
        var jobs: [ClaimedJob] = []
        var rateRoomIn: Double?
        jobs.reserveCapacity(rows.count)
        for row in rows {
            if try row.decode(Int64?.self, at: 0) == nil {
                rateRoomIn = try row.decode(Double?.self, at: 9)
            } else {
                jobs.append(try ClaimedJob(row: row, withTraceContext: withTraceContext))
            }
        }
        return (jobs, rateRoomIn)
    }

    /// The job from a claim's row; `withTraceContext` when the claim returned its trace context.
    init(row: PQRow, withTraceContext: Bool = false) throws {
        (id, jobID, method, queue, args, attempt, maxAttempts, timeout, orphaned, waitSeconds) = try row.decode(
            (Int64, String?, String, String, PQJSON, Int, Int?, Int?, Int, Double).self)
        if withTraceContext {
            let traceparent = try row.decode(String?.self, at: 10)
            if traceparent != nil {
                traceHeaders = TraceHeaders(traceparent: traceparent, tracestate: try row.decode(String?.self, at: 11))
            }
        }
    }
}
