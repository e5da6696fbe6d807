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
    /// Seconds from when the job could run (its run_at, or its enqueue if later) to this claim.
    var waitSeconds: Double

    init(row: PQRow) throws {
        (id, jobID, method, queue, args, attempt, maxAttempts, timeout, waitSeconds) = try row.decode(
            (Int64, String?, String, String, PQJSON, Int, Int?, Int?, Double).self)
    }
}
