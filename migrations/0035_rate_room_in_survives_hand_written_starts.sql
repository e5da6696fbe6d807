-- 0035: porter.rate_room_in (migration 0034) survives claim times written by hand.
--
-- It added each full window's `per` to its oldest claim's time and subtracted the moment. A
-- claim time of 'infinity' written into porter.limit_starts made that "cannot subtract
-- infinite timestamps", and one near the end of the timestamp range made the addition
-- overflow: either error failed every claim of the queue, keys with room included, since the
-- worker's claim statement calls the function (JobRunQueries.claimAvailable).
--
-- Such a claim still counts in its window, as porter.claim_limited counts it; only claims at
-- or before the moment are candidates for the oldest, so every sum stays within a window of
-- now. A window whose claims all lie in the future, as those do, frees no start the hint could
-- name: it gives no hint (not 0, which would wake the worker at once, over and over), and the
-- poll still finds it.
--
-- Same signature, so its rights (migration 0034) stay as they are.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION porter.rate_room_in(queue text) RETURNS double precision
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
        -- A full window frees a start when its oldest claim ages out; claims in the future
        -- count, but are never the oldest that frees one.
        SELECT min(w.started_at) FILTER (WHERE w.started_at <= at.now) + w.per AS frees
        FROM windows w, at
        WHERE w.max_starts IS NOT NULL AND w.started_at > at.now - w.per
        GROUP BY w.limit_key, w.max_starts, w.per, at.now
        HAVING count(*) >= w.max_starts
    )
    SELECT greatest(date_part('epoch', min(f.frees) - at.now), 0)::float8
    FROM full_windows f, at
    WHERE f.frees IS NOT NULL
    GROUP BY at.now
$$;
