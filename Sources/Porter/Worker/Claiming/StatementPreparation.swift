import Foundation
import PorterPostgres

/// Whether a worker's claims and completions run as prepared statements, and what stops the
/// worker when its server sessions turn out to be shared.
///
/// Behind a pooler in transaction mode (PgBouncer before 1.21, or without
/// `max_prepared_statements`), each transaction may run on another client's server session.
/// A prepared statement is then missing in the next transaction (`26000` right after
/// preparing it) or already there from another client (`42P05`). Such a worker used to limp
/// on silently, claiming a few jobs a minute; now the first such error turns prepared
/// statements off (so the outcomes still held are written plainly) and stops the worker with
/// an error that says to use `--poll-only`.
final class StatementPreparation: @unchecked Sendable {
    private let lock = NSLock()
    private var prepared: Bool
    private var failure: PorterError?
    private let stops = AsyncStream<PorterError>.makeStream(bufferingPolicy: .bufferingNewest(1))

    init(prepared: Bool) {
        self.prepared = prepared
    }

    /// `query` as this worker runs it: prepared, unless prepared statements are off or failed.
    func statement(_ query: PQQuery) -> PQQuery {
        lock.withLock { prepared } ? query.prepared() : query
    }

    /// Whether `error` says the server session is shared. The first time, prepared statements
    /// are turned off and the worker is told to stop.
    func isSharedSessionError(_ error: any Error) -> Bool {
        guard let error = error as? PQError,
            error.sqlState == .duplicatePreparedStatement || error.sqlState == .invalidSQLStatementName
        else { return false }
        let stop = lock.withLock { () -> PorterError? in
            guard prepared else { return nil }
            prepared = false
            let stop = PorterError(
                code: .sharedServerSession,
                message: "this worker's database sessions are shared with other clients, as behind PgBouncer in transaction pooling mode, so its prepared statements cannot work (\(error.message)); start it with --poll-only (config \"poll_only\": true), or put PgBouncer 1.21 or later with max_prepared_statements in front of the database",
                underlying: error)
            failure = stop
            return stop
        }
        if let stop {
            stops.continuation.yield(stop)
            stops.continuation.finish()
        }
        return true
    }

    /// The error that stopped the worker, if one did.
    var stopError: PorterError? { lock.withLock { failure } }

    /// Waits until the worker must stop; returns nil when cancelled first.
    func stopRequested() async -> PorterError? {
        for await stop in stops.stream { return stop }
        return nil
    }
}
