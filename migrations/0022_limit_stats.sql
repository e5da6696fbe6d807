-- 0022: flow-control limits where operators look (issue 20). porter.limit_stats() gives each
-- limit with how many jobs run against it and how many wait because of it, and porter.stats()
-- gains its `limits` array, which `porter stats`, the dashboard and the held-back metric read.
--
-- porter.stats() is wrapped rather than written anew: the figures it had (migration 0016, and
-- any later change to them) are renamed porter.queue_stats(), and porter.stats() returns them
-- with `limits` added, so the two concerns stay in two functions.
--
-- Counts: running jobs are status 'started' ones of the limit's scope; starts are claims in
-- the window (porter.limit_starts). A scope is full when either reaches its limit; a job waits
-- because of a limit when it may run now (queued, or scheduled with its run_at passed) and its
-- scope is full. For each_key, the keys without a limit of their own are counted one by one and
-- added up. Reads the waiting and started jobs of limited queues only (jobs_claim_idx and
-- jobs_started_worker_idx), and porter.limit_starts.
--
-- Rights (migration 0013): every function pins its search_path and none is left to PUBLIC;
-- the reader and worker kinds may call porter.limit_stats().

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION porter.limit_stats() RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off AS $$
DECLARE
    l record;
    result jsonb := '[]';
    running bigint;
    started bigint;
    waiting bigint;
    is_full boolean;
BEGIN
    FOR l IN SELECT * FROM porter.queue_limits q ORDER BY q.queue, q.limit_key IS NOT NULL, q.each_key, q.limit_key LOOP
        IF NOT l.each_key THEN
            -- The queue as a whole, or one key.
            SELECT count(*) INTO running FROM porter.jobs j
            WHERE j.queue = l.queue AND j.status = 'started' AND (l.limit_key IS NULL OR j.limit_key = l.limit_key);
            SELECT count(*) INTO started FROM porter.limit_starts s
            WHERE s.queue = l.queue AND (l.limit_key IS NULL OR s.limit_key = l.limit_key) AND s.started_at > now() - l.per;
            is_full := running >= l.max_running OR started >= l.max_starts;
            waiting := 0;
            IF coalesce(is_full, false) THEN
                SELECT count(*) INTO waiting FROM porter.jobs j
                WHERE j.queue = l.queue AND j.status IN ('queued', 'scheduled') AND j.run_at <= now()
                  AND (l.limit_key IS NULL OR j.limit_key = l.limit_key);
            END IF;
        ELSE
            -- Each key without a limit of its own, apart.
            SELECT coalesce(sum(k.running), 0), coalesce(sum(k.runnable) FILTER (WHERE k.running >= l.max_running OR k.started >= l.max_starts), 0)
            INTO running, waiting
            FROM (
                SELECT u.limit_key, sum(u.running) AS running, sum(u.runnable) AS runnable,
                       (SELECT count(*) FROM porter.limit_starts s
                        WHERE s.queue = l.queue AND s.limit_key = u.limit_key AND s.started_at > now() - l.per) AS started
                FROM (
                    SELECT j.limit_key, count(*) AS running, 0 AS runnable FROM porter.jobs j
                    WHERE j.queue = l.queue AND j.status = 'started' AND j.limit_key IS NOT NULL GROUP BY j.limit_key
                    UNION ALL
                    SELECT j.limit_key, 0, count(*) FROM porter.jobs j
                    WHERE j.queue = l.queue AND j.status IN ('queued', 'scheduled') AND j.run_at <= now() AND j.limit_key IS NOT NULL
                    GROUP BY j.limit_key
                ) AS u
                WHERE NOT EXISTS (SELECT FROM porter.queue_limits o WHERE o.queue = l.queue AND o.limit_key = u.limit_key)
                GROUP BY u.limit_key
            ) AS k;
        END IF;
        result := result || jsonb_build_array(jsonb_build_object(
            'queue', l.queue, 'limit_key', l.limit_key, 'each_key', l.each_key,
            'scope', CASE WHEN l.limit_key IS NOT NULL THEN 'key' WHEN l.each_key THEN 'each key' ELSE 'queue' END,
            'max_running', l.max_running, 'max_starts', l.max_starts,
            'per_seconds', extract(epoch FROM l.per)::float8, 'fair', l.fair,
            'running', running, 'waiting', waiting));
    END LOOP;
    RETURN result;
END
$$;

ALTER FUNCTION porter.stats() RENAME TO queue_stats;

-- porter.queue_stats() with `limits`: porter.limit_stats().
CREATE FUNCTION porter.stats() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off AS $$
    SELECT porter.queue_stats() || jsonb_build_object('limits', porter.limit_stats())
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA porter FROM PUBLIC;
INSERT INTO porter.privileges (kind, privilege, object) VALUES
    ('reader', 'EXECUTE', 'FUNCTION porter.queue_stats()'),
    ('reader', 'EXECUTE', 'FUNCTION porter.limit_stats()'),
    ('worker', 'EXECUTE', 'FUNCTION porter.limit_stats()');
SELECT porter.refresh_grants();
