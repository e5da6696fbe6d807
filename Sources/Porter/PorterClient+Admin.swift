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
    ///
    /// A job with `depends_on` waits again as `deferred` while a parent has not finished; a
    /// parent that failed or was canceled must be retried first. The dependants that were
    /// canceled because this job failed (and theirs, in cascade) come back as `deferred`, to
    /// run once it finishes.
    public func retry(id: Int64) async throws {
        do {
            try await pool.withTransaction { transaction in
                guard let row = try transaction.query(AdminQueries.lockForRetry(id: id)).first else {
                    throw PorterError(code: .jobNotFound(id), message: "no job has id \(id)")
                }
                let (status, dependsOn) = try row.decode((String, [Int64]?).self)
                guard status == "failed" || status == "canceled" else {
                    throw PorterError(
                        code: .invalidState, message: "job \(id) is \(status); only failed or canceled jobs can be retried")
                }
                for parent in try transaction.query(AdminQueries.unfinishedParents(dependsOn ?? [])) {
                    let (parentID, method, parentStatus) = try parent.decode((Int64, String, String).self)
                    if parentStatus == "failed" || parentStatus == "canceled" {
                        throw PorterError(
                            code: .invalidState,
                            message: "job \(id) depends on job \(parentID) (\(method)), which \(parentStatus); retry job \(parentID) first, and its canceled dependants come back with it")
                    }
                }
                // Deferred while a parent runs, else queued and its queue woken; the
                // dependants its failure canceled come back with it. The same statement as
                // a bulk retry's.
                try transaction.query(AdminQueries.requeue(ids: [id]))
            }
        } catch let error as PQError where error.sqlState == .uniqueViolation {
            throw PorterError(
                code: .invalidState,
                message: "job \(id) cannot be retried: another job with its job_id (or a dependant's) is queued or running",
                underlying: error)
        }
    }

    /// Cancels a queued or scheduled job, or asks the worker running a started one to stop it
    /// (`porter cancel`).
    ///
    /// It never waits on the job's row lock. A running sql: job's own transaction, or
    /// `JobContext.finish`'s, holds that lock until the job ends; then the worker is asked
    /// directly (over `porter_cancel`) and the request is not stored in the row, so a worker
    /// in poll-only mode does not see it. A lock held by a claim or an enqueue lasts
    /// milliseconds: such a job is tried again a few times.
    @discardableResult
    public func cancel(id: Int64) async throws -> CancelResult {
        for _ in 0..<5 {
            let status: String? = try await pool.withTransaction { transaction in
                let status = try transaction.query(AdminQueries.cancel(id: id)).singleOptional(String.self)
                if status == "started" { try transaction.query(AdminQueries.notifyCancel(id: id)) }
                return status
            }
            switch status {
            case "started": return .requested
            case .some: return .canceled
            case nil: break
            }
            // Nothing changed: the job has ended, or another transaction holds its row.
            guard let current = try await pool.query(AdminQueries.status(id: id)).singleOptional(String.self) else {
                throw PorterError(code: .jobNotFound(id), message: "no job has id \(id)")
            }
            guard let current = JobStatus(rawValue: current), current.isActive else {
                throw PorterError(code: .invalidState, message: "job \(id) is already \(current)")
            }
            if current == .started {
                try await pool.query(AdminQueries.notifyCancel(id: id))
                return .requested
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw PorterError(
            code: .invalidState,
            message: "job \(id) is locked by another transaction (a claim or an enqueue in progress); try again")
    }
}
