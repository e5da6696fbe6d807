-- 0030: a job claimed under a limit starts (started_at) after the counts that let it start.
--
-- porter.claim_limited took claim_at once, right after its queue's lock, and counted the
-- running jobs after it, with fresh snapshots. An end that committed in between (its
-- ended_at, the moment of its write, a WAL flush before its commit) was counted as ended, and
-- the job that took its place started at a claim_at earlier than that ended_at: no limit was
-- passed, but the rows said two jobs of a limit of one had overlapped, on a loaded machine
-- (FlowControlTests.everyEndFreesThePlaceAndWakesWorkersAtOnce). claim_at is now taken again
-- right before the claimed rows are written, so started_at, the recorded start behind
-- rate limits and the wait all count from then. The rate windows were counted with the
-- earlier moment, so a start is recorded a little later than the count assumed: a window
-- frees a little later, never sooner. Otherwise the function is 0021's.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION porter.claim_limited(
    queue text, worker_id text, wanted integer, skip_methods text[] DEFAULT NULL, skip_documents text[] DEFAULT NULL
) RETURNS TABLE (claimed_id bigint, claimed_job_id text, claimed_method text, claimed_queue text, claimed_args jsonb,
                 claimed_attempt integer, claimed_max_attempts integer, claimed_timeout integer, claimed_orphaned integer,
                 wait_seconds double precision)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
-- Its statements are index probes of a few rows; compiling them cost more than running them.
SET jit = off AS $$
#variable_conflict use_column
DECLARE
    q text := claim_limited.queue;
    own porter.queue_limits;
    each_row porter.queue_limits;
    claim_at timestamptz;
    room integer;
    default_room integer := 2147483647;
    rooms jsonb;
    -- Jobs this claim took per key: kept apart from `rooms`, which may name thousands of keys
    -- and which a change would copy whole.
    taken jsonb := '{}';
    full_keys text[];
    key_room integer;
    counts_starts boolean;
    horizon interval;
    chosen bigint[] := '{}';
    candidate record;
    pick bigint;
    -- The plain order's walk.
    walk_front boolean;
    after_priority integer;
    after_run_at timestamptz;
    after_id bigint;
    batch integer;
    -- Fair turns.
    level_front boolean;
    level_priority integer;
    cursor_key text;
    turn_key text;
    head_id bigint;
    head_run_at timestamptz;
    last_served text;
    -- The turn at which the walk last took nothing since it last took a job: reaching it again
    -- means a whole round passed without a job to take. '' stands for the unkeyed jobs' turn
    -- (no key is empty: jobs_limit_key_not_empty).
    stalled_at text;
BEGIN
    IF wanted IS NULL OR wanted <= 0 OR worker_id IS NULL THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT FROM porter.paused_queues p WHERE p.queue = q) THEN
        RETURN;
    END IF;
    -- The claim's transaction, as the plain claim's: no wait for the WAL flush, and the
    -- status trigger skips its rows (the worker sends their started events).
    PERFORM set_config('synchronous_commit', 'off', true), set_config('porter.worker_statement', 'on', true);
    PERFORM pg_advisory_xact_lock(hashtextextended('porter.claim_limited ' || q, 0));
    -- After the lock: the windows count from the moment this claim may act.
    claim_at := clock_timestamp();
    SELECT * INTO own FROM porter.queue_limits l WHERE l.queue = q AND l.limit_key IS NULL AND NOT l.each_key;
    SELECT * INTO each_row FROM porter.queue_limits l WHERE l.queue = q AND l.each_key;
    SELECT coalesce(bool_or(l.max_starts IS NOT NULL), false), max(l.per) INTO counts_starts, horizon
    FROM porter.queue_limits l WHERE l.queue = q;
    IF horizon IS NOT NULL THEN
        DELETE FROM porter.limit_starts s WHERE s.queue = q AND s.started_at <= claim_at - horizon;
    END IF;

    room := wanted;
    IF own.max_running IS NOT NULL THEN
        room := least(room, own.max_running - (SELECT count(*) FROM porter.jobs j WHERE j.queue = q AND j.status = 'started'));
    END IF;
    IF own.max_starts IS NOT NULL THEN
        room := least(room, own.max_starts - (SELECT count(*) FROM porter.limit_starts s
                                              WHERE s.queue = q AND s.started_at > claim_at - own.per));
    END IF;
    IF room <= 0 THEN
        RETURN;
    END IF;

    IF each_row.queue IS NOT NULL THEN
        default_room := least(coalesce(each_row.max_running, 2147483647), coalesce(each_row.max_starts, 2147483647));
    END IF;
    -- Each key's room, for the keys that run, started in a window, or have a row of their own:
    -- one grouped pass over the queue's started jobs, one over its claim log.
    SELECT coalesce(jsonb_object_agg(r.limit_key, greatest(r.room, 0)), '{}'),
           coalesce(array_agg(r.limit_key) FILTER (WHERE r.room <= 0), '{}')
    INTO rooms, full_keys
    FROM (
        WITH running AS (
            SELECT j.limit_key, count(*) AS n FROM porter.jobs j
            WHERE j.queue = q AND j.status = 'started' AND j.limit_key IS NOT NULL
            GROUP BY j.limit_key
        ), starts AS (
            SELECT s.limit_key, s.started_at FROM porter.limit_starts s
            WHERE counts_starts AND s.queue = q AND s.limit_key IS NOT NULL
        ), scoped AS (
            -- A key's own row replaces each_key's whole.
            SELECT k.limit_key,
                   CASE WHEN o.queue IS NULL THEN each_row.max_running ELSE o.max_running END AS max_running,
                   CASE WHEN o.queue IS NULL THEN each_row.max_starts ELSE o.max_starts END AS max_starts,
                   CASE WHEN o.queue IS NULL THEN each_row.per ELSE o.per END AS per
            FROM (SELECT limit_key FROM running UNION SELECT limit_key FROM starts
                  UNION SELECT l.limit_key FROM porter.queue_limits l WHERE l.queue = q AND l.limit_key IS NOT NULL) AS k
            LEFT JOIN porter.queue_limits o ON o.queue = q AND o.limit_key = k.limit_key
        ), started AS (
            SELECT sc.limit_key, count(*) AS n FROM scoped sc JOIN starts st ON st.limit_key = sc.limit_key
            WHERE st.started_at > claim_at - sc.per
            GROUP BY sc.limit_key
        )
        SELECT sc.limit_key,
               least(coalesce(sc.max_running - coalesce(ru.n, 0), 2147483647),
                     coalesce(sc.max_starts - coalesce(st.n, 0), 2147483647)) AS room
        FROM scoped sc
        LEFT JOIN running ru ON ru.limit_key = sc.limit_key
        LEFT JOIN started st ON st.limit_key = sc.limit_key
    ) AS r;

    IF NOT coalesce(own.fair, false) THEN
        -- The plain claim's order, passing over the keys that are full already, in batches of
        -- 256 from where the last batch ended: each a short ordered walk of jobs_claim_idx
        -- (a query without LIMIT is planned as a sort of the whole queue).
        FOREACH walk_front IN ARRAY ARRAY[true, false] LOOP
            after_priority := NULL;
            LOOP
                batch := 0;
                FOR candidate IN
                    SELECT j.id, j.limit_key, j.priority, j.run_at FROM porter.jobs j
                    WHERE j.queue = q AND j.status IN ('queued', 'scheduled') AND j.at_front = walk_front
                      AND (after_priority IS NULL OR (j.priority, j.run_at, j.id) > (after_priority, after_run_at, after_id))
                      AND j.run_at <= claim_at
                      AND (j.limit_key IS NULL OR j.limit_key <> ALL(full_keys))
                      AND (skip_methods IS NULL OR j.method <> ALL(skip_methods))
                      AND (skip_documents IS NULL OR NOT (j.method = 'porter.run_doc_method'
                           AND (j.args->>'doctype') || '.' || (j.args->>'doc_method') = ANY(skip_documents)))
                    ORDER BY j.priority, j.run_at, j.id
                    LIMIT 256
                LOOP
                    batch := batch + 1;
                    after_priority := candidate.priority;
                    after_run_at := candidate.run_at;
                    after_id := candidate.id;
                    IF candidate.limit_key IS NULL THEN
                        chosen := chosen || candidate.id;
                    ELSE
                        key_room := coalesce((rooms->>candidate.limit_key)::integer, default_room)
                                    - coalesce((taken->>candidate.limit_key)::integer, 0);
                        IF key_room > 0 THEN
                            chosen := chosen || candidate.id;
                            IF key_room < 2147483647 THEN
                                taken := taken || jsonb_build_object(candidate.limit_key,
                                                                     coalesce((taken->>candidate.limit_key)::integer, 0) + 1);
                            END IF;
                        END IF;
                    END IF;
                    EXIT WHEN cardinality(chosen) >= room;
                END LOOP;
                EXIT WHEN cardinality(chosen) >= room OR batch < 256;
            END LOOP;
            EXIT WHEN cardinality(chosen) >= room;
        END LOOP;
    ELSE
        SELECT t.last_key INTO last_served FROM porter.limit_turns t WHERE t.queue = q;
        -- The best level (at_front, priority) with a runnable job first; a level none of whose
        -- jobs may run gives way to the next.
        SELECT j.at_front, j.priority INTO level_front, level_priority FROM porter.jobs j
        WHERE j.queue = q AND j.status IN ('queued', 'scheduled') AND j.run_at <= claim_at
        ORDER BY j.at_front DESC, j.priority LIMIT 1;
        WHILE level_front IS NOT NULL AND cardinality(chosen) < room LOOP
            cursor_key := last_served;
            stalled_at := NULL;
            -- Round after round over the level's keys, one job per key per turn, until the
            -- room is used or a whole round takes nothing.
            LOOP
                turn_key := NULL;
                pick := NULL;
                -- The next key and its first job at this level, in one probe; two statements,
                -- so that the key's bound is an index condition.
                IF cursor_key IS NULL THEN
                    SELECT j.limit_key, j.id, j.run_at INTO turn_key, head_id, head_run_at FROM porter.jobs j
                    WHERE j.queue = q AND j.status IN ('queued', 'scheduled') AND j.limit_key IS NOT NULL
                      AND j.at_front = level_front AND j.priority = level_priority
                    ORDER BY j.limit_key, j.run_at, j.id LIMIT 1;
                ELSE
                    SELECT j.limit_key, j.id, j.run_at INTO turn_key, head_id, head_run_at FROM porter.jobs j
                    WHERE j.queue = q AND j.status IN ('queued', 'scheduled') AND j.limit_key IS NOT NULL
                      AND j.at_front = level_front AND j.priority = level_priority AND j.limit_key > cursor_key
                    ORDER BY j.limit_key, j.run_at, j.id LIMIT 1;
                END IF;
                IF turn_key IS NULL THEN
                    -- Past the last key: the jobs without a key take their turn, then the keys
                    -- again from the first.
                    turn_key := '';
                    SELECT j.id INTO pick FROM porter.jobs j
                    WHERE j.queue = q AND j.status IN ('queued', 'scheduled') AND j.limit_key IS NULL
                      AND j.at_front = level_front AND j.priority = level_priority AND j.run_at <= claim_at
                      AND j.id <> ALL(chosen)
                      AND (skip_methods IS NULL OR j.method <> ALL(skip_methods))
                      AND (skip_documents IS NULL OR NOT (j.method = 'porter.run_doc_method'
                           AND (j.args->>'doctype') || '.' || (j.args->>'doc_method') = ANY(skip_documents)))
                    ORDER BY j.run_at, j.id LIMIT 1;
                    cursor_key := NULL;
                ELSE
                    cursor_key := turn_key;
                    key_room := coalesce((rooms->>turn_key)::integer, default_room)
                                - coalesce((taken->>turn_key)::integer, 0);
                    IF key_room > 0 AND head_run_at <= claim_at AND NOT head_id = ANY(chosen) AND skip_methods IS NULL
                       AND skip_documents IS NULL THEN
                        -- The key's first job is runnable and not taken yet: the usual case.
                        pick := head_id;
                    ELSIF key_room > 0 THEN
                        SELECT j.id INTO pick FROM porter.jobs j
                        WHERE j.queue = q AND j.status IN ('queued', 'scheduled') AND j.limit_key = turn_key
                          AND j.at_front = level_front AND j.priority = level_priority AND j.run_at <= claim_at
                          AND j.id <> ALL(chosen)
                          AND (skip_methods IS NULL OR j.method <> ALL(skip_methods))
                          AND (skip_documents IS NULL OR NOT (j.method = 'porter.run_doc_method'
                               AND (j.args->>'doctype') || '.' || (j.args->>'doc_method') = ANY(skip_documents)))
                        ORDER BY j.limit_key, j.run_at, j.id LIMIT 1;
                    END IF;
                    IF pick IS NOT NULL AND key_room < 2147483647 THEN
                        taken := taken || jsonb_build_object(turn_key, coalesce((taken->>turn_key)::integer, 0) + 1);
                    END IF;
                END IF;
                IF pick IS NOT NULL THEN
                    chosen := chosen || pick;
                    stalled_at := NULL;
                    IF turn_key <> '' THEN
                        last_served := turn_key;
                    END IF;
                    EXIT WHEN cardinality(chosen) >= room;
                ELSIF stalled_at IS NULL THEN
                    stalled_at := turn_key;
                ELSIF stalled_at = turn_key THEN
                    EXIT;
                END IF;
            END LOOP;
            EXIT WHEN cardinality(chosen) >= room;
            -- The next level down.
            SELECT j.at_front, j.priority INTO level_front, level_priority FROM porter.jobs j
            WHERE j.queue = q AND j.status IN ('queued', 'scheduled') AND j.run_at <= claim_at
              AND (NOT j.at_front AND level_front OR j.at_front = level_front AND j.priority > level_priority)
            ORDER BY j.at_front DESC, j.priority LIMIT 1;
            IF NOT FOUND THEN
                level_front := NULL;
            END IF;
        END LOOP;
        IF last_served IS NOT NULL THEN
            INSERT INTO porter.limit_turns AS t (queue, last_key) VALUES (q, last_served)
            ON CONFLICT ON CONSTRAINT limit_turns_pkey DO UPDATE SET last_key = excluded.last_key
            WHERE t.last_key IS DISTINCT FROM excluded.last_key;
        END IF;
    END IF;

    IF cardinality(chosen) = 0 THEN
        RETURN;
    END IF;
    -- The jobs start now, after every count above: a job whose end those counts saw had
    -- committed it, and its ended_at, taken before that commit, is earlier than this.
    claim_at := clock_timestamp();
    RETURN QUERY
    WITH locked AS (
        SELECT j.id FROM porter.jobs j
        WHERE j.id = ANY(chosen) AND j.status IN ('queued', 'scheduled')
        ORDER BY j.id
        FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE porter.jobs AS j
        SET status = 'started', started_at = claim_at, ended_at = NULL,
            attempts = least(j.attempts, 2147483646) + 1,
            worker_id = claim_limited.worker_id, cancel_requested_at = NULL
        FROM locked WHERE j.id = locked.id
        RETURNING j.id, j.job_id, j.method, j.queue, j.args, j.attempts, j.max_attempts, j.timeout, j.orphaned,
            j.limit_key, j.at_front, j.priority, j.run_at,
            date_part('epoch', claim_at - greatest(j.run_at, least(j.enqueued_at, claim_at)))::float8 AS wait
    ), logged AS (
        INSERT INTO porter.limit_starts (queue, limit_key, started_at)
        SELECT q, c.limit_key, claim_at FROM claimed c WHERE counts_starts
    )
    SELECT c.id, c.job_id, c.method, c.queue, c.args, c.attempts, c.max_attempts, c.timeout, c.orphaned, c.wait
    FROM claimed c
    ORDER BY c.at_front DESC, c.priority, c.run_at, c.id;
END
$$;

