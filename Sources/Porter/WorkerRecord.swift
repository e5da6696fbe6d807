import Foundation
import PorterPostgres

/// A row of `porter.workers`: a worker process that registered and heartbeats, with the number
/// of jobs it is running.
public struct WorkerRecord: Sendable, Hashable {
    /// The worker's id, `host:pid:random`, as `porter.jobs.worker_id` names it.
    public var id: String
    /// The host it runs on.
    public var host: String
    /// Its process id on that host.
    public var pid: Int
    /// The queues it serves.
    public var queues: [String]
    /// When it registered.
    public var startedAt: Date
    /// Its last heartbeat. A worker silent for its `rescue_after` is taken for dead and its
    /// row removed by the next rescue.
    public var heartbeatAt: Date
    /// The jobs it holds as `started`.
    public var runningJobs: Int

    /// The columns `init(row:)` reads, in order.
    static let columns = "w.id, w.host, w.pid, w.queues, w.started_at, w.heartbeat_at"

    init(row: PQRow) throws {
        id = try row.decode(String.self, at: 0)
        host = try row.decode(String.self, at: 1)
        pid = try row.decode(Int.self, at: 2)
        queues = try row.decode([String].self, at: 3)
        startedAt = try row.decode(Date.self, at: 4)
        heartbeatAt = try row.decode(Date.self, at: 5)
        runningJobs = try row.decode(Int.self, at: 6)
    }
}
