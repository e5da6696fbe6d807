import PorterPostgres

extension PorterClient {
    /// Pauses `queue`: no worker claims its jobs until `resumeQueue(_:)`, from the moment this
    /// commits; jobs already running finish, and jobs can still be enqueued. Kept in the
    /// database (`porter.paused_queues`), so it holds across restarts and for every worker.
    /// Returns false when the queue was paused already.
    @discardableResult
    public func pauseQueue(_ queue: String) async throws -> Bool {
        try await queueCall(QueueQueries.pause(queue))
    }

    /// Resumes a paused queue; its idle workers are woken and claim at once. Returns false when
    /// the queue was not paused.
    @discardableResult
    public func resumeQueue(_ queue: String) async throws -> Bool {
        try await queueCall(QueueQueries.resume(queue))
    }

    /// What `porter stats` shows: per queue, its waiting, running and failed jobs, throughput,
    /// lag, wait and run percentiles and whether it is paused; and the live workers' slots.
    /// The same figures as `SELECT porter.stats()`.
    public func stats() async throws -> PorterStats {
        try await statsJSON().decode(PorterStats.self)
    }

    /// `stats()` as porter.stats() returns it: the JSON whose keys are the contract for
    /// scripts and other languages (`porter stats --json`), for an app to serve as it is.
    public func statsJSON() async throws -> PQJSON {
        do {
            return try await pool.query(QueueQueries.stats).single(PQJSON.self)
        } catch {
            throw PorterError.schemaMissing(error)
        }
    }

    private func queueCall(_ query: PQQuery) async throws -> Bool {
        do {
            return try await pool.query(query).single(Bool.self)
        } catch {
            throw PorterError.fromEnqueue(error, jobID: nil)
        }
    }
}
