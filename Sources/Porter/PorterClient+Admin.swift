import PorterPostgres

extension PorterClient {
    /// What `cancel(id:)` did.
    public enum CancelResult: Sendable, Hashable {
        /// The job was waiting and is now `canceled`.
        case canceled
        /// The job is running; its worker was asked to stop it and will mark it `canceled`.
        case requested
    }

    /// Requeues a failed or canceled job with a fresh set of attempts (`porter retry`).
    public func retry(id: Int64) async throws {
        let rows: PostgresRows
        do {
            rows = try await pool.query(WorkerQueries.retry(id: id))
        } catch let error as PostgresError where error.sqlState == .uniqueViolation {
            throw PorterError(
                code: .invalidState,
                message: "job \(id) cannot be retried: another job with its job_id is queued or running", underlying: error)
        }
        guard rows.isEmpty else { return }
        guard let job = try await job(id: id) else {
            throw PorterError(code: .jobNotFound(id), message: "no job has id \(id)")
        }
        throw PorterError(
            code: .invalidState, message: "job \(id) is \(job.status.rawValue); only failed or canceled jobs can be retried")
    }

    /// Cancels a queued or scheduled job, or asks the worker running a started one to stop it
    /// (`porter cancel`).
    @discardableResult
    public func cancel(id: Int64) async throws -> CancelResult {
        let status: String? = try await pool.withTransaction { transaction in
            let status = try transaction.query(WorkerQueries.cancel(id: id)).singleOptional(String.self)
            if status == "started" { try transaction.query(WorkerQueries.notifyCancel(id: id)) }
            return status
        }
        switch status {
        case "started": return .requested
        case .some: return .canceled
        case nil:
            guard let job = try await job(id: id) else {
                throw PorterError(code: .jobNotFound(id), message: "no job has id \(id)")
            }
            throw PorterError(code: .invalidState, message: "job \(id) is already \(job.status.rawValue)")
        }
    }
}
