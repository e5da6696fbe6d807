/// The advisory lock keys Porter takes from Swift, in one place so that no two uses collide.
/// (In SQL, `porter.claim_limited` takes one transaction lock per limited queue, on
/// `hashtextextended('porter.claim_limited ' || queue, 0)`, so that claims of one limited queue
/// run one at a time.)
enum PorterLockKey {
    /// `porter migrate`: one migrator at a time (a session lock). The bytes of "porter".
    static let migration: Int64 = 0x706f_7274_6572
    /// Pruning: one worker at a time prunes and vacuums (a transaction lock).
    static let prune: Int64 = migration + 1
    /// The first key of each worker's session lock, `pg_advisory_lock(workerSession,
    /// porter.workers.lock_key)`: its release tells rescuers that the worker's session ended.
    /// "Port" in ASCII, so the two-key locks Porter takes stay apart from an application's
    /// (and from one-key locks, which PostgreSQL keeps apart anyway).
    static let workerSession: Int32 = 0x506F_7274
}
