import Foundation

/// The attempts this worker process knows it holds: each from the moment its claim's answer
/// arrives until its end is written (or given up at shutdown), and how many claims are still
/// waiting for their answer.
///
/// The held-jobs check (`WorkerSession`) compares it with what the database shows. A claim
/// can commit on the server and still fail here: its answer lost with the connection (a
/// PgBouncer KILL, a network cut), or a row that does not decode. The worker then never runs
/// those jobs, and while its heartbeat goes on no rescuer takes them; the check finds them
/// held in the database but not here, and hands them back.
final class OwnedAttempts: @unchecked Sendable {
    /// What the worker held at one moment, and where its claims stood.
    struct Snapshot: Equatable {
        var keys: Set<JobAttempt.Key>
        /// Claims sent so far, answered or not.
        var claimsSent: Int
        /// Claims sent whose answer (or failure) has not arrived yet.
        var claimsWaiting: Int
    }

    private let lock = NSLock()
    private var snapshot = Snapshot(keys: [], claimsSent: 0, claimsWaiting: 0)

    /// A claim is about to be sent.
    func claimSent() {
        lock.withLock {
            snapshot.claimsSent += 1
            snapshot.claimsWaiting += 1
        }
    }

    /// A claim's answer arrived with these attempts, which are this worker's until `released`.
    func claimAnswered(_ keys: some Sequence<JobAttempt.Key>) {
        lock.withLock {
            snapshot.claimsWaiting -= 1
            snapshot.keys.formUnion(keys)
        }
    }

    /// A claim failed: whatever it may have claimed on the server, this worker does not know.
    func claimFailed() {
        lock.withLock { snapshot.claimsWaiting -= 1 }
    }

    /// The attempt's end is written, or given up on: the database decides from now on.
    func released(_ key: JobAttempt.Key) {
        _ = lock.withLock { snapshot.keys.remove(key) }
    }

    /// What the worker holds now.
    var now: Snapshot { lock.withLock { snapshot } }

    /// The attempts of `held` (what the database showed this worker holding, read between
    /// `before` and `after`) that this worker does not know it holds; empty when a claim was
    /// on its way at either moment or was sent in between, since its answer may be what is
    /// missing. An attempt released between the two moments is in `before`; one claimed
    /// before `before` and still held is in both.
    static func unaccounted(held: Set<JobAttempt.Key>, before: Snapshot, after: Snapshot) -> Set<JobAttempt.Key> {
        guard before.claimsWaiting == 0, after.claimsWaiting == 0, before.claimsSent == after.claimsSent else { return [] }
        return held.subtracting(before.keys).subtracting(after.keys)
    }
}
