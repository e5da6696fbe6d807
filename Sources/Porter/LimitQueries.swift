import PorterPostgres

/// The statements on flow-control limits (migration 0021): set, clear and list them.
enum LimitQueries {
    /// Sets one scope's limits (porter.set_limit), replacing what it had; the function
    /// validates every argument. Served by queue_limits_scope_key; wakes the queue's workers.
    static func set(_ limit: QueueLimit) -> PQQuery {
        """
        SELECT porter.set_limit(queue => \(limit.queue), limit_key => \(limit.limitKey)::text, each_key => \(limit.eachKey), \
        max_running => \(limit.maxRunning)::integer, max_starts => \(limit.maxStarts)::integer, \
        per => pg_catalog.make_interval(secs => \(limit.perSeconds)::float8), fair => \(limit.fair))
        """
    }

    /// Removes one scope's limits (porter.clear_limit); true when it had some.
    static func clear(queue: String, limitKey: String?, eachKey: Bool) -> PQQuery {
        "SELECT porter.clear_limit(queue => \(queue), limit_key => \(limitKey)::text, each_key => \(eachKey))"
    }

    /// Every limit, by queue, then the queue's own, each key's, and the keys' own. Reads the
    /// porter.limits view, which every worker and reader role may read.
    static let list: PQQuery = """
        SELECT queue, limit_key, each_key, max_running, max_starts,
               pg_catalog.date_part('epoch', per)::float8, fair
        FROM porter.limits
        ORDER BY queue, limit_key IS NOT NULL, each_key, limit_key
        """

    /// Every limit with its running and held-back jobs (porter.limit_stats(), migration 0023):
    /// reads the waiting and started jobs of limited queues only. Takes no lock.
    static let stats: PQQuery = "SELECT porter.limit_stats()"
}
