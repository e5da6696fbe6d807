import Foundation
import PorterPostgres

/// A worker process as `porter.workers` shows it (`porter workers`).
public struct WorkerRecord: Sendable, Hashable {
    /// The worker's id, as in `porter.jobs.worker_id`: host, pid and a random part.
    public var id: String
    /// The host it runs on.
    public var host: String
    /// Its process id on that host.
    public var pid: Int
    /// The queues it serves.
    public var queues: [String]
    /// The methods it runs: its registered ones, and `sql:schema.*` per allowed schema.
    public var methods: [String]
    /// Its job slots over all its queues.
    public var slots: Int
    /// How many of its slots ran a job at its last heartbeat.
    public var slotsBusy: Int
    /// When it registered.
    public var startedAt: Date
    /// Its last heartbeat.
    public var heartbeatAt: Date
    /// Whether its last heartbeat is more recent than its `rescue_after`; a dead worker stays
    /// listed until a rescuer removes it.
    public var alive: Bool

    init(row: PQRow) throws {
        (id, host, pid, queues, methods, slots, slotsBusy, startedAt, heartbeatAt, alive) = try row.decode(
            (String, String, Int, [String], [String], Int, Int, Date, Date, Bool).self)
    }
}
