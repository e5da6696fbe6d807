import PorterPostgres

/// The statements on `porter.workers`: the registry of live worker processes, which the
/// rescuer reads to find the dead ones.
enum WorkerQueries {
    /// Registers (or re-registers) a worker process; served by workers_pkey.
    static func register(id: String, host: String, pid: Int, queues: [String]) -> PQQuery {
        """
        INSERT INTO porter.workers (id, host, pid, queues) VALUES (\(id), \(host), \(pid), \(queues)::text[])
        ON CONFLICT (id) DO UPDATE SET heartbeat_at = pg_catalog.now(), queues = excluded.queues
        """
    }

    /// Records that a worker is alive; no row back means a rescuer already declared it dead.
    /// Served by workers_pkey.
    static func heartbeat(id: String) -> PQQuery {
        "UPDATE porter.workers SET heartbeat_at = pg_catalog.now() WHERE id = \(id) RETURNING id"
    }

    /// The schemas this session searches, in order, with those PostgreSQL adds itself
    /// (pg_catalog, and this session's temporary schema once it has one). Reads no table.
    static let searchedSchemas: PQQuery = "SELECT pg_catalog.current_schemas(true)::pg_catalog.text[]"

    /// Removes a worker at shutdown; served by workers_pkey.
    static func deregister(id: String) -> PQQuery {
        "DELETE FROM porter.workers WHERE id = \(id)"
    }

    /// The registered workers, oldest first, each with its count of started jobs: a scan of
    /// the small workers table, and per worker a probe of jobs_started_worker_idx.
    static let list: PQQuery = """
        SELECT \(unsafeRaw: WorkerRecord.columns),
               (SELECT count(*) FROM porter.jobs j WHERE j.status = 'started' AND j.worker_id = w.id)
        FROM porter.workers w
        ORDER BY w.started_at, w.id
        """
}
