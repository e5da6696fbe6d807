import PorterPostgres

/// The statements on `porter.workers`: the registry of live worker processes, which the
/// rescuer reads to find the dead ones.
enum WorkerQueries {
    /// Registers (or re-registers) a worker process with its figures for porter.stats()
    /// (`WorkerStatistics.Report`); served by workers_pkey.
    static func register(id: String, host: String, pid: Int, queues: [String], stats: PQJSON) -> PQQuery {
        """
        INSERT INTO porter.workers (id, host, pid, queues, stats) VALUES (\(id), \(host), \(pid), \(queues)::text[], \(stats)::jsonb)
        ON CONFLICT (id) DO UPDATE SET heartbeat_at = pg_catalog.now(), queues = excluded.queues, stats = excluded.stats
        """
    }

    /// Records that a worker is alive, with its figures for porter.stats(); no row back means
    /// a rescuer already declared it dead. Served by workers_pkey.
    static func heartbeat(id: String, stats: PQJSON) -> PQQuery {
        "UPDATE porter.workers SET heartbeat_at = pg_catalog.now(), stats = \(stats)::jsonb WHERE id = \(id) RETURNING id"
    }

    /// The schemas this session searches, in order, with those PostgreSQL adds itself
    /// (pg_catalog, and this session's temporary schema once it has one). Reads no table.
    static let searchedSchemas: PQQuery = "SELECT pg_catalog.current_schemas(true)::pg_catalog.text[]"

    /// Removes a worker at shutdown; served by workers_pkey.
    static func deregister(id: String) -> PQQuery {
        "DELETE FROM porter.workers WHERE id = \(id)"
    }

    /// Every registered worker with its figures from its last heartbeat, for `porter workers`
    /// (`WorkerRecord`); a small table, read whole. Takes no lock. Methods come from the
    /// porter.workers.methods column where the schema has it (the rescue migration, 0015), read
    /// through to_jsonb(w) so this statement also runs on a schema without it; else from the
    /// list the worker reports in stats.
    static let list: PQQuery = """
        SELECT w.id, w.host, w.pid, w.queues,
               ARRAY(SELECT pg_catalog.jsonb_array_elements_text(coalesce(
                   NULLIF(pg_catalog.to_jsonb(w)->'methods', 'null'::jsonb), w.stats->'methods', '[]'))),
               coalesce((SELECT sum((q.value->>'slots')::bigint) FROM jsonb_each(coalesce(w.stats->'queues', '{}')) q), 0),
               coalesce((SELECT sum((q.value->>'busy')::bigint) FROM jsonb_each(coalesce(w.stats->'queues', '{}')) q), 0),
               w.started_at, w.heartbeat_at,
               w.heartbeat_at >= now() - make_interval(secs => coalesce((w.stats->>'rescue_after')::float8, 20))
        FROM porter.workers w ORDER BY w.host, w.pid, w.id
        """
}
