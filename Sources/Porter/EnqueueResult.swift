import PorterPostgres

/// What an enqueue did.
public enum EnqueueResult: Sendable, Hashable {
    /// A new job was inserted with this id (`porter.jobs.id`).
    case enqueued(id: Int64)
    /// `deduplicate` was set and an active job already has this `jobID`; nothing was inserted.
    case duplicate(jobID: String)
    /// `now` was set: the job ran inline in the caller, with its timeout, and returned this
    /// result; nothing was inserted.
    case ranInline(result: PQJSON?)

    /// The new job's id, when one was inserted.
    public var id: Int64? {
        if case .enqueued(let id) = self { return id }
        return nil
    }

    /// Whether the enqueue was skipped as a duplicate of an active job.
    public var isDuplicate: Bool {
        if case .duplicate = self { return true }
        return false
    }
}
