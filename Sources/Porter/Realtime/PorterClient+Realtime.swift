import PorterPostgres

extension PorterClient {
    /// Publishes an event on the caller's connection: delivered when its transaction commits,
    /// never if it rolls back (Frappe's `publish_realtime`).
    public func publishRealtime(
        event: String, message: PQJSON = PQJSON(text: "{}"), job: Int64? = nil,
        on connection: isolated PQConnection
    ) throws {
        do {
            try connection.query(RealtimeQueries.publish(event: event, message: message, job: job))
        } catch {
            throw PorterError.fromEnqueue(error, jobID: nil)
        }
    }

    /// Publishes an event on Porter's pool, delivered at once.
    public func publishRealtime(event: String, message: PQJSON = PQJSON(text: "{}"), job: Int64? = nil) async throws {
        do {
            try await pool.query(RealtimeQueries.publish(event: event, message: message, job: job))
        } catch {
            throw PorterError.fromEnqueue(error, jobID: nil)
        }
    }
}

extension JobContext {
    /// Records this job's progress in `porter.jobs.progress` and publishes it as a `progress`
    /// event (Frappe's `publish_progress`). Committed at once, whatever the job does next, and
    /// after the job's `started` event.
    public func publishProgress(percent: Double, title: String? = nil, description: String? = nil) async throws {
        guard let id else { return }  // inline (`now`) runs have no row
        await workerAttempt?.waitForStartedEvent()
        try await pool.query(RealtimeQueries.publishProgress(job: id, percent: percent, title: title, description: description))
    }

    /// Publishes an event about this job, delivered at once, after the job's `started` event.
    public func publishRealtime(event: String, message: PQJSON = PQJSON(text: "{}")) async throws {
        await workerAttempt?.waitForStartedEvent()
        try await pool.query(RealtimeQueries.publish(event: event, message: message, job: id))
    }
}
