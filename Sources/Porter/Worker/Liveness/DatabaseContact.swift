import Foundation
import PorterPostgres

/// How long a worker has been in unbroken contact with the database, as its heartbeats and
/// maintenance passes see it.
///
/// A rescuer takes a worker for dead when its heartbeat is `rescue_after` old. That is only
/// evidence while the rescuer itself could reach the database all that time: after an outage
/// (a failover, a PgBouncer pause, a network cut) every worker's heartbeat is as old as the
/// outage, live ones included. So a worker rescues only once it has been in contact for
/// `rescue_after` without a break; by then every live worker has had several heartbeats to
/// show it is alive, and has written the outcomes it kept through the outage.
final class DatabaseContact: @unchecked Sendable {
    private let lock = NSLock()
    private var since: ContinuousClock.Instant?

    /// A statement of the worker's upkeep reached the database.
    func reached() {
        lock.withLock {
            if since == nil { since = .now }
        }
    }

    /// A statement of the worker's upkeep failed for want of a connection: contact is broken.
    func failed(_ error: any Error) {
        guard let error = error as? PQError, error.isConnectionLost else { return }
        lock.withLock { since = nil }
    }

    /// The worker's session was found closed: contact is broken.
    func lost() {
        lock.withLock { since = nil }
    }

    /// Whether contact has lasted at least `duration` without a break.
    func hasLasted(_ duration: Duration) -> Bool {
        lock.withLock { since.map { $0.duration(to: .now) >= duration } ?? false }
    }
}
