import Foundation

/// The attempts this worker process knows it holds: each from the moment its claim's answer
/// arrives until its end is written (or given up at shutdown), and the claims still waiting
/// for their answer.
///
/// The held-jobs check (`WorkerSession`, through `LostClaims`) compares it with what the
/// database shows. A claim can commit on the server and still fail here: its answer lost with
/// the connection (a PgBouncer KILL, a network cut), or a row that does not decode. The worker
/// then never runs those jobs, and while its heartbeat goes on no rescuer takes them; the
/// check finds them held in the database but not here, and hands them back.
final class OwnedAttempts: @unchecked Sendable {
    /// What the worker held at one moment, and which of its claims awaited an answer.
    struct Snapshot: Equatable {
        var keys: Set<JobAttempt.Key>
        /// The claims sent whose answer (or failure) has not arrived yet, by number.
        var waiting: Set<Int>
    }

    private let lock = NSLock()
    private var snapshot = Snapshot(keys: [], waiting: [])
    private var claimsSent = 0

    /// A claim is about to be sent; returns its number, for `claimAnswered` or `claimFailed`.
    func claimSent() -> Int {
        lock.withLock {
            claimsSent += 1
            snapshot.waiting.insert(claimsSent)
            return claimsSent
        }
    }

    /// Claim `number`'s answer arrived with these attempts, which are this worker's until
    /// `released`.
    func claimAnswered(_ number: Int, _ keys: some Sequence<JobAttempt.Key>) {
        lock.withLock {
            snapshot.waiting.remove(number)
            snapshot.keys.formUnion(keys)
        }
    }

    /// Claim `number` failed: whatever it may have claimed on the server, this worker does not
    /// know.
    func claimFailed(_ number: Int) {
        _ = lock.withLock { snapshot.waiting.remove(number) }
    }

    /// The attempt's end is written, or given up on: the database decides from now on.
    func released(_ key: JobAttempt.Key) {
        _ = lock.withLock { snapshot.keys.remove(key) }
    }

    /// What the worker holds now.
    var now: Snapshot { lock.withLock { snapshot } }
}

/// The held-jobs check's reasoning about claims whose answer was lost, from one check to the
/// next, without I/O (OwnedAttemptsTests drive it).
///
/// An attempt the database shows held, read between snapshots `before` and `after`, and in
/// neither, is unaccounted for: its claim's answer has not been received, or its end was
/// written in between. It is lost when it is unaccounted for at two checks in a row and every
/// claim that was waiting at the first check (`after`) has since answered or failed: a claim
/// that took it answered by then (and the attempt would be known, or ended and no longer held),
/// and one sent later ran after the first check's read.
struct LostClaims {
    /// Unaccounted for at the last check.
    private(set) var suspects: Set<JobAttempt.Key> = []
    /// The claims waiting when the suspects were read, and still waiting since.
    private var claims: Set<Int> = []

    /// Records one check; returns the attempts now known to be lost.
    mutating func check(
        held: Set<JobAttempt.Key>, before: OwnedAttempts.Snapshot, after: OwnedAttempts.Snapshot
    ) -> Set<JobAttempt.Key> {
        let unaccounted = held.subtracting(before.keys).subtracting(after.keys)
        guard claims.isDisjoint(with: before.waiting) else {
            // A claim that may have taken a suspect has not answered yet: wait for it.
            suspects = unaccounted
            claims = claims.intersection(before.waiting).union(after.waiting)
            return []
        }
        let lost = suspects.intersection(unaccounted)
        suspects = unaccounted.subtracting(lost)
        claims = after.waiting
        return lost
    }
}
