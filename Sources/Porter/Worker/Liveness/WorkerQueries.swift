import PorterPostgres

/// The statements on `porter.workers`: the registry of live worker processes, which the
/// rescuer reads to find the dead ones.
enum WorkerQueries {
    /// Takes this session's worker lock on `key` if no session holds it; true when taken.
    /// Held until the session ends: that is what tells a rescuer the worker is alive.
    static func takeSessionLock(key: Int32) -> PQQuery {
        "SELECT pg_catalog.pg_try_advisory_lock(\(PorterLockKey.workerSession), \(key))"
    }

    /// Registers (or re-registers) a worker process with its session lock's key (NULL for
    /// none), what it can run, and its figures for porter.stats() (`WorkerStatistics.Report`),
    /// clearing any mark a rescuer left when it found the worker's previous session gone.
    /// Served by workers_pkey.
    static func register(
        id: String, host: String, pid: Int, queues: [String], methods: [String], lockKey: Int32?, stats: PQJSON
    ) -> PQQuery {
        """
        INSERT INTO porter.workers (id, host, pid, queues, methods, lock_key, stats)
        VALUES (\(id), \(host), \(pid), \(queues)::text[], \(methods)::text[], \(lockKey), \(stats)::jsonb)
        ON CONFLICT (id) DO UPDATE SET heartbeat_at = pg_catalog.now(), queues = excluded.queues, methods = excluded.methods,
            lock_key = excluded.lock_key, session_lost_at = NULL, stats = excluded.stats
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

    /// Whether the role this session logged in as (`session_user`) is a superuser. Reads
    /// pg_roles through pg_authid_rolname_index; takes no lock.
    static let sessionIsSuperuser: PQQuery = "SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = session_user"

    /// The live workers (heartbeat younger than `rescueAfter`, session not found gone), with
    /// their queues and what they can run (empty for a worker of an older build). Reads the
    /// whole table, which holds one row per worker process. Takes no lock.
    static func listLive(rescueAfter: Duration) -> PQQuery {
        """
        SELECT id, queues, coalesce(methods, '{}') FROM porter.workers
        WHERE heartbeat_at >= pg_catalog.now() - pg_catalog.make_interval(secs => \(rescueAfter.seconds)) AND session_lost_at IS NULL
        ORDER BY id
        """
    }

    /// Removes a worker at shutdown; served by workers_pkey.
    static func deregister(id: String) -> PQQuery {
        "DELETE FROM porter.workers WHERE id = \(id)"
    }

    /// Every registered worker with its figures from its last heartbeat, for `porter workers`
    /// (`WorkerRecord`); a small table, read whole. Takes no lock. Methods are what the worker
    /// registered (porter.workers.methods; none for a worker of an older build).
    static let list: PQQuery = """
        SELECT w.id, w.host, w.pid, w.queues, coalesce(w.methods, '{}'),
               coalesce((SELECT sum((q.value->>'slots')::bigint) FROM jsonb_each(coalesce(w.stats->'queues', '{}')) q), 0),
               coalesce((SELECT sum((q.value->>'busy')::bigint) FROM jsonb_each(coalesce(w.stats->'queues', '{}')) q), 0),
               w.started_at, w.heartbeat_at,
               w.heartbeat_at >= now() - make_interval(secs => coalesce((w.stats->>'rescue_after')::float8, 20))
        FROM porter.workers w ORDER BY w.host, w.pid, w.id
        """
}
