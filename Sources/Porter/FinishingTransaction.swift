import Foundation
import PorterPostgres

/// What `JobContext.finish` needs to mark a worker's job finished in the handler's own
/// transaction, and whether that transaction committed.
final class FinishingTransaction: @unchecked Sendable {
    let id: Int64
    let attempt: Int
    let workerID: String
    /// Returns once the job's `started` event is out, so that it precedes the end event this
    /// transaction sends.
    let startedEventSent: @Sendable () async -> Void
    private let lock = NSLock()
    private var didCommit = false

    init(id: Int64, attempt: Int, workerID: String, startedEventSent: @escaping @Sendable () async -> Void) {
        self.id = id
        self.attempt = attempt
        self.workerID = workerID
        self.startedEventSent = startedEventSent
    }

    /// The guarded completion; zero rows means the job is no longer this run's, so the
    /// transaction must roll back.
    func markFinished(result: PostgresJSON?, on connection: isolated PostgresConnection) throws {
        let updated = try connection.query(
            WorkerQueries.finishInTransaction(id: id, attempt: attempt, workerID: workerID, result: result)
        ).affectedRows
        guard updated == 1 else {
            throw PorterError(
                code: .invalidState,
                message: "job \(id) is no longer held by this run (already finished, rescued or canceled); the transaction was rolled back")
        }
    }

    func committed() { lock.withLock { didCommit = true } }

    /// Whether `finish` committed: the job is finished and the worker must not complete it again.
    var isCommitted: Bool { lock.withLock { didCommit } }
}
