import Foundation
import PorterPostgres

extension PorterClient {
    /// The jobs each statement of a bulk action changes at most: each batch is one transaction,
    /// so no more row locks than this are held at a time while workers run.
    public static let bulkBatchSize = 1000

    /// Retries the failed (or canceled) jobs of `selection` in batches, as `retry(id:)` does one:
    /// fresh attempts, deferred while a parent runs, and the dependants their failure canceled
    /// come back with them. Only jobs that ended before the call are taken, so a retried job
    /// that fails again while this runs is not retried twice. Skipped: a job whose `job_id` an
    /// active job holds (all but the newest, when several share one), and a job whose parent
    /// failed or was canceled (retry the parent). Returns how many jobs were requeued;
    /// `progress` hears the running total after each batch.
    @discardableResult
    public func retryJobs(
        _ selection: JobSelection = JobSelection(status: .failed), batchSize: Int = bulkBatchSize,
        progress: @Sendable (Int) -> Void = { _ in }
    ) async throws -> Int {
        try await inBatches(progress) { before in AdminQueries.retryJobs(selection, before: before, batchSize: batchSize) }
    }

    /// Cancels the waiting (queued by default; scheduled or deferred) jobs of `selection` in
    /// batches, each as `cancel(id:)` cancels a waiting job; their deferred dependants are
    /// canceled with them. Jobs enqueued after the call began are left alone. A job a worker is
    /// claiming at that moment is left to run. Returns how many jobs were canceled.
    @discardableResult
    public func cancelJobs(
        _ selection: JobSelection = JobSelection(status: .queued), batchSize: Int = bulkBatchSize,
        progress: @Sendable (Int) -> Void = { _ in }
    ) async throws -> Int {
        try await inBatches(progress) { before in AdminQueries.cancelJobs(selection, before: before, batchSize: batchSize) }
    }

    /// Deletes the ended (failed by default; canceled or finished) jobs of `selection` that
    /// ended more than `olderThan` ago, in batches. Returns how many were deleted.
    @discardableResult
    public func deleteJobs(
        _ selection: JobSelection = JobSelection(status: .failed), olderThan: Duration, batchSize: Int = bulkBatchSize,
        progress: @Sendable (Int) -> Void = { _ in }
    ) async throws -> Int {
        try await inBatches(progress) { _ in AdminQueries.deleteJobs(selection, olderThan: olderThan, batchSize: batchSize) }
    }

    /// Runs one batch after another, each its own transaction, until a batch changes nothing.
    private func inBatches(_ progress: @Sendable (Int) -> Void, _ batch: (Date) -> PQQuery) async throws -> Int {
        do {
            let before = try await pool.query(AdminQueries.now).single(Date.self)
            var total = 0
            while true {
                let changed = try await pool.query(batch(before)).single(Int.self)
                guard changed > 0 else { return total }
                total += changed
                progress(total)
            }
        } catch let error as PQError where error.sqlState == .uniqueViolation {
            throw PorterError(
                code: .invalidState,
                message: "a job could not be retried: another job with its job_id (or a dependant's) was enqueued meanwhile; run the retry again",
                underlying: error)
        } catch {
            throw PorterError.fromEnqueue(error, jobID: nil)
        }
    }
}
