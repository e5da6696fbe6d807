-- 0034: how long until a full rate window of a queue frees a start, so that a worker claims
-- the jobs a rate holds back when the window lets them go, not at its next poll.
--
-- A job held by `max_starts` per `per` became claimable when the oldest claim of its window
-- aged out, but nothing woke a worker then: no enqueue, and no end (an end wakes the workers
-- of a limited queue at once, while the window is still full). It waited for the poll
-- (poll_interval, 1 s by default), so a rate of 10 per second ran at 10 per one to two seconds.
--
-- porter.rate_room_in(queue) answers, for the queue's rate windows that are full now (the
-- queue's own, and each key's: its own row, else the each_key row, as porter.claim_limited
-- scopes them), the seconds until the first of them loses its oldest claim; NULL when no
-- window is full. The worker's claim statement (JobRunQueries.claimAvailable) asks it after
-- each claim of a queue with a rate, and the worker claims again that much later. Early is
-- harmless: a claim that finds nothing asks again.
--
-- VOLATILE, so that it reads the claims the same statement's porter.claim_limited has just
-- logged in porter.limit_starts. One pass over the queue's entries of limit_starts_queue_key_idx
-- within the longest window, which porter.claim_limited keeps pruned to that window.
--
-- Rights (migration 0013): SECURITY INVOKER, as the claim's functions; the worker kind may
-- execute it.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION porter.rate_room_in(queue text) RETURNS double precision
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH at AS (SELECT clock_timestamp() AS now),
    windows AS (
        -- Each claim logged, with the window it counts in: the queue's own rate ...
        SELECT NULL::text AS limit_key, s.started_at, l.max_starts, l.per
        FROM porter.queue_limits l JOIN porter.limit_starts s ON s.queue = l.queue
        WHERE l.queue = rate_room_in.queue AND l.limit_key IS NULL AND NOT l.each_key AND l.max_starts IS NOT NULL
        UNION ALL
        -- ... and its key's: the key's own row replaces the each_key row whole.
        SELECT s.limit_key, s.started_at,
               CASE WHEN o.queue IS NULL THEN e.max_starts ELSE o.max_starts END,
               CASE WHEN o.queue IS NULL THEN e.per ELSE o.per END
        FROM porter.limit_starts s
        LEFT JOIN porter.queue_limits o ON o.queue = s.queue AND o.limit_key = s.limit_key
        LEFT JOIN porter.queue_limits e ON e.queue = s.queue AND e.each_key
        WHERE s.queue = rate_room_in.queue AND s.limit_key IS NOT NULL
    ), full_windows AS (
        -- A full window frees a start when its oldest claim ages out.
        SELECT min(w.started_at) + w.per AS frees
        FROM windows w, at
        WHERE w.max_starts IS NOT NULL AND w.started_at > at.now - w.per
        GROUP BY w.limit_key, w.max_starts, w.per
        HAVING count(*) >= w.max_starts
    )
    SELECT greatest(date_part('epoch', min(f.frees) - at.now), 0)::float8
    FROM full_windows f, at
    GROUP BY at.now
$$;

-- Not callable by PUBLIC (migration 0013); the worker's claim statement calls it.
REVOKE ALL ON FUNCTION porter.rate_room_in(text) FROM PUBLIC;
INSERT INTO porter.privileges (kind, privilege, object) VALUES
    ('worker', 'EXECUTE', 'FUNCTION porter.rate_room_in(text)');
SELECT porter.refresh_grants();
