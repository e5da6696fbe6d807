-- 0020: flow control (issue 20). A limit_key on every job, limits as rows, and a claim that
-- holds them across every worker.
--
-- Limits. porter.queue_limits holds one row per scope: a queue as a whole (no key), every key
-- of a queue (each_key), or one key of a queue. max_running caps the jobs of the scope that
-- are started and not ended; max_starts per `per` caps the claims in any window of that
-- length (a sliding window, counted from a log of claim times, porter.limit_starts); fair
-- (on a queue's own row) makes claims take turns among the queue's keys. set_limit and
-- clear_limit change them; porter.limits shows them.
--
-- The claim. A queue without a row in porter.queue_limits is claimed as before: the worker's
-- statement adds one probe of queue_limits_scope_key to the paused_queues probe it already makes.
-- A queue with limits is claimed by porter.claim_limited, which first takes a transaction
-- advisory lock for the queue, so that the claims of one limited queue run one at a time
-- across every worker, and only then counts (each statement of a VOLATILE PL/pgSQL function
-- under READ COMMITTED takes a new snapshot, so the counts include every claim committed
-- before the lock was granted; PostgreSQL releases a transaction's locks only after its
-- commit is visible). Running jobs are counted by status = 'started', so every way a job ends
-- (finished, failed, retried, timed out, canceled, rescued, handed back) frees its place with
-- the commit that ends it, and a rescued job counts again only when it is claimed again.
--
-- Waking. A job of a limited queue that stops running sends porter_enqueue with its queue's
-- name (from porter.end_attempts for a worker's ends, from the status trigger for every other
-- writer), so jobs held back by a limit are claimed as soon as the place is free, by any
-- worker, not at the next poll. A rate-limited job waits for the poll (1 s by default).
--
-- Rights (migration 0013): every function pins its search_path and none is left to PUBLIC.
-- Worker and owner may set and clear limits; the reader reads porter.limits.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

-- The key a job's limits are counted by (a tenant, a franchise, a provider); NULL: only the
-- queue's own limit applies. NOT VALID: the column is new, so every stored row is NULL and
-- reading them all again proves nothing; every new or changed row is checked.
ALTER TABLE porter.jobs ADD COLUMN limit_key text;
ALTER TABLE porter.jobs ADD CONSTRAINT jobs_limit_key_not_empty CHECK (btrim(limit_key) <> '') NOT VALID;

-- The fair claim's walk: per queue and priority, one entry per key's waiting job in key
-- order, so that the next key after a given one is one index probe whatever the number of
-- jobs. Partial on limit_key, so jobs without a key (every job of a queue that uses no keys)
-- cost it nothing; and on waiting jobs, so it holds no history.
CREATE INDEX jobs_limit_claim_idx ON porter.jobs (queue, at_front DESC, priority, limit_key, run_at, id)
    WHERE status IN ('queued', 'scheduled') AND limit_key IS NOT NULL;

CREATE TABLE porter.queue_limits (
    queue       text        NOT NULL,
    -- NULL: the queue as a whole (each_key false) or every key without a row of its own
    -- (each_key true).
    limit_key   text,
    each_key    boolean     NOT NULL DEFAULT false,
    max_running integer,
    max_starts  integer,
    per         interval,
    fair        boolean     NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- One row per scope. NULLS NOT DISTINCT: the queue's own row and its each_key row have no
    -- key, and there is one of each at most.
    CONSTRAINT queue_limits_scope_key UNIQUE NULLS NOT DISTINCT (queue, limit_key, each_key),
    -- A key's own row is for that key; each_key is for the keys without one.
    CONSTRAINT queue_limits_one_scope CHECK (NOT (each_key AND limit_key IS NOT NULL)),
    -- 0 would stop the queue for good: porter.pause_queue says that better.
    CONSTRAINT queue_limits_max_running_positive CHECK (max_running > 0),
    CONSTRAINT queue_limits_max_starts_positive CHECK (max_starts > 0),
    CONSTRAINT queue_limits_per_positive CHECK (per > interval '0'),
    -- A claim subtracts per from its clock: a window of a million years would make every claim
    -- of the queue fail with "timestamp out of range". 100 years is run_at's own bound.
    CONSTRAINT queue_limits_per_within_range CHECK (per <= interval '36525 days'),
    -- A number of starts means nothing without the window it is counted in.
    CONSTRAINT queue_limits_starts_with_per CHECK ((max_starts IS NULL) = (per IS NULL)),
    -- Turns are taken among a queue's keys: a setting of the queue's own row.
    CONSTRAINT queue_limits_fair_on_queue CHECK (NOT fair OR (limit_key IS NULL AND NOT each_key)),
    -- A row limits something, or it would be no row.
    CONSTRAINT queue_limits_limits_something CHECK (max_running IS NOT NULL OR max_starts IS NOT NULL OR fair),
    -- As jobs_limit_key_not_empty: no job can have an empty key, so a limit for one is a mistake.
    CONSTRAINT queue_limits_key_not_empty CHECK (btrim(limit_key) <> '')
);

COMMENT ON TABLE porter.queue_limits IS 'Flow-control limits, one row per scope; change them with porter.set_limit and porter.clear_limit, read them in porter.limits.';

-- The claims of limited queues whose scope has a max_starts, for the sliding window: one row
-- per claimed job, pruned by the claim to the queue's longest window.
CREATE TABLE porter.limit_starts (
    queue      text        NOT NULL,
    limit_key  text,
    started_at timestamptz NOT NULL
);

COMMENT ON TABLE porter.limit_starts IS 'Claim times of rate-limited queues, kept for the length of their longest window (porter.claim_limited).';

-- Counts of one queue's (and one key's) claims inside a window, and the prune.
CREATE INDEX limit_starts_queue_key_idx ON porter.limit_starts (queue, limit_key, started_at);

-- Where the fair claim of each queue left off: the last key it served.
CREATE TABLE porter.limit_turns (
    queue    text NOT NULL,
    last_key text,
    CONSTRAINT limit_turns_pkey PRIMARY KEY (queue)
);

COMMENT ON TABLE porter.limit_turns IS 'The last key each fair queue''s claim served, so the next claim starts after it.';

-- The limits as operators read them: the scope spelled out.
CREATE VIEW porter.limits AS
SELECT l.queue, l.limit_key, l.each_key,
       CASE WHEN l.limit_key IS NOT NULL THEN 'key' WHEN l.each_key THEN 'each key' ELSE 'queue' END AS scope,
       l.max_running, l.max_starts, l.per, l.fair, l.updated_at
FROM porter.queue_limits l;

COMMENT ON VIEW porter.limits IS 'Flow-control limits: per queue, per key of a queue, or for each key of a queue (see porter.set_limit).';

-- Refuses a limit_key porter.enqueue would refuse: empty, or longer than a method name may be
-- (max_method_bytes), with the same error. SECURITY DEFINER to read porter.settings.
CREATE FUNCTION porter.check_limit_key(limit_key text, caller text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    limits porter.settings := porter.effective_settings();
BEGIN
    IF limit_key IS NOT NULL AND btrim(limit_key) = '' THEN
        RAISE EXCEPTION '%: limit_key must not be empty', caller
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'limit_key',
                  HINT = 'pass NULL for no key, or a name such as ''franchise:42''';
    END IF;
    IF octet_length(limit_key) > limits.max_method_bytes THEN
        RAISE EXCEPTION '%: limit_key is % bytes, over the limit of % bytes', caller, octet_length(limit_key), limits.max_method_bytes
            USING ERRCODE = 'program_limit_exceeded', COLUMN = 'limit_key',
                  HINT = 'use a shorter key, e.g. a hash of the long one; the schema''s owner may raise the limit with SELECT porter.set_limit(''max_method_bytes'', n)';
    END IF;
END
$$;

-- Forgets a queue's claim log once no limit of it counts starts, and its fair turn once it is
-- not fair: the claim keeps them only while they count, and a rate set again later starts
-- from an empty window rather than from claims made while no rate held.
CREATE FUNCTION porter.forget_limit_state(queue text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM porter.queue_limits l WHERE l.queue = forget_limit_state.queue AND l.max_starts IS NOT NULL) THEN
        DELETE FROM porter.limit_starts s WHERE s.queue = forget_limit_state.queue;
    END IF;
    IF NOT EXISTS (SELECT FROM porter.queue_limits l WHERE l.queue = forget_limit_state.queue AND l.fair) THEN
        DELETE FROM porter.limit_turns t WHERE t.queue = forget_limit_state.queue;
    END IF;
END
$$;

-- Sets the limits of one scope, replacing what that scope had: a parameter left NULL is no
-- limit of that kind. Refuses bad input with a clear error and stores nothing. Wakes the
-- queue's workers, since a raised limit may let waiting jobs run now. SECURITY DEFINER, so the
-- worker's role needs EXECUTE only. The first argument is a queue's name: porter.set_limit(name,
-- value) of migration 0013, the owner's byte limits, takes an integer second argument and is
-- another function.
CREATE FUNCTION porter.set_limit(
    queue text, limit_key text DEFAULT NULL, each_key boolean DEFAULT false, max_running integer DEFAULT NULL,
    max_starts integer DEFAULT NULL, per interval DEFAULT NULL, fair boolean DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM porter.check_queue_name(set_limit.queue, 'porter.set_limit');
    PERFORM porter.check_limit_key(set_limit.limit_key, 'porter.set_limit');
    IF set_limit.limit_key IS NOT NULL AND coalesce(set_limit.each_key, false) THEN
        RAISE EXCEPTION 'porter.set_limit: pass limit_key or each_key, not both'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'each_key',
                  HINT = 'limit_key => ''x'' limits one key; each_key => true limits every key without a limit of its own';
    END IF;
    IF set_limit.max_running IS NOT NULL AND set_limit.max_running <= 0 THEN
        RAISE EXCEPTION 'porter.set_limit: max_running must be at least 1, got %', set_limit.max_running
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'max_running',
                  HINT = 'to stop a queue, use porter.pause_queue; to lift the limit, porter.clear_limit';
    END IF;
    IF set_limit.max_starts IS NOT NULL AND set_limit.max_starts <= 0 THEN
        RAISE EXCEPTION 'porter.set_limit: max_starts must be at least 1, got %', set_limit.max_starts
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'max_starts',
                  HINT = 'to stop a queue, use porter.pause_queue; to lift the limit, porter.clear_limit';
    END IF;
    IF (set_limit.max_starts IS NULL) <> (set_limit.per IS NULL) THEN
        RAISE EXCEPTION 'porter.set_limit: max_starts and per go together'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = CASE WHEN set_limit.per IS NULL THEN 'per' ELSE 'max_starts' END,
                  HINT = 'e.g. max_starts => 100, per => interval ''1 minute''';
    END IF;
    IF set_limit.per <= interval '0' THEN
        RAISE EXCEPTION 'porter.set_limit: per must be a positive interval, got %', set_limit.per
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'per',
                  HINT = 'e.g. per => interval ''1 minute''';
    END IF;
    IF set_limit.per > interval '36525 days' THEN
        RAISE EXCEPTION 'porter.set_limit: per is %, longer than 100 years', set_limit.per
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'per',
                  HINT = 'a window of at most 100 years (36525 days), e.g. per => interval ''1 minute''';
    END IF;
    IF coalesce(set_limit.fair, false) AND (set_limit.limit_key IS NOT NULL OR coalesce(set_limit.each_key, false)) THEN
        RAISE EXCEPTION 'porter.set_limit: fair is set on a queue, not on a key'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'fair',
                  HINT = format('SELECT porter.set_limit(%L, fair => true)', set_limit.queue);
    END IF;
    IF set_limit.max_running IS NULL AND set_limit.max_starts IS NULL AND NOT coalesce(set_limit.fair, false) THEN
        RAISE EXCEPTION 'porter.set_limit: no limit given'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'max_running',
                  HINT = 'pass max_running, max_starts with per, or fair => true; to remove a limit, use porter.clear_limit';
    END IF;
    INSERT INTO porter.queue_limits AS l (queue, limit_key, each_key, max_running, max_starts, per, fair, updated_at)
    VALUES (set_limit.queue, set_limit.limit_key, coalesce(set_limit.each_key, false), set_limit.max_running,
            set_limit.max_starts, set_limit.per, coalesce(set_limit.fair, false), now())
    ON CONFLICT ON CONSTRAINT queue_limits_scope_key DO UPDATE
    SET max_running = excluded.max_running, max_starts = excluded.max_starts, per = excluded.per,
        fair = excluded.fair, updated_at = excluded.updated_at;
    PERFORM porter.forget_limit_state(set_limit.queue);
    PERFORM pg_notify('porter_enqueue', set_limit.queue);
END
$$;

-- Removes the limits of one scope; returns false when it had none. Forgets the claim log and
-- fair turn the queue no longer needs. Wakes the queue's workers.
CREATE FUNCTION porter.clear_limit(queue text, limit_key text DEFAULT NULL, each_key boolean DEFAULT false) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    changed integer;
BEGIN
    PERFORM porter.check_queue_name(clear_limit.queue, 'porter.clear_limit');
    PERFORM porter.check_limit_key(clear_limit.limit_key, 'porter.clear_limit');
    IF clear_limit.limit_key IS NOT NULL AND coalesce(clear_limit.each_key, false) THEN
        RAISE EXCEPTION 'porter.clear_limit: pass limit_key or each_key, not both'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'each_key';
    END IF;
    DELETE FROM porter.queue_limits l
    WHERE l.queue = clear_limit.queue AND l.limit_key IS NOT DISTINCT FROM clear_limit.limit_key
      AND l.each_key = coalesce(clear_limit.each_key, false);
    GET DIAGNOSTICS changed = ROW_COUNT;
    PERFORM porter.forget_limit_state(clear_limit.queue);
    IF changed > 0 THEN
        PERFORM pg_notify('porter_enqueue', clear_limit.queue);
    END IF;
    RETURN changed > 0;
END
$$;

-- The claim of a queue that has limits (JobRunQueries.claimAvailable calls it when
-- porter.queue_limits has a row for the queue): up to `wanted` jobs, none past any limit, as
-- the worker's plain claim returns them. Skips the methods `skip_methods` and document methods
-- `skip_documents` (ForeignJobs), as the plain claim does.
--
-- 1. A transaction advisory lock on the queue: the claims of one limited queue are taken one
--    at a time across all workers, and every statement below sees the claims before it.
-- 2. The queue's own limits give the room left: started jobs (one pass of
--    jobs_started_worker_idx, at most one entry per busy slot anywhere) and claims in the
--    window (limit_starts_queue_key_idx).
-- 3. Each key's room, for the keys that run, started in a window, or have a row of their own;
--    any other key has each_key's room (or none when there is no each_key row).
-- 4. Not fair: the waiting jobs in the plain claim's order (jobs_claim_idx, in batches of 256),
--    passing over the keys without room (no head-of-line blocking). Its cost grows with the
--    jobs of full keys that sit ahead of the first runnable ones: measured on 2 cores, 10-15 ms
--    to claim 100 with 1M jobs over 10,000 keys and 1,000 keys full, the same with 100k jobs;
--    75 ms when 50,000 jobs of one full key come first.
--    Fair: keys take turns, from the key after the last one served, within the best at_front
--    and priority that has a runnable job; one jobs_limit_claim_idx probe per key visited,
--    whatever the number of jobs (8-15 ms to claim 100 in the same three cases). Jobs without
--    a key take one turn after the last key.
-- 5. Claims the chosen jobs (rows locked, SKIP LOCKED), logs their claim times for the
--    scopes that count starts, and records the fair turn.
CREATE FUNCTION porter.claim_limited(
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

-- 0018's porter.end_attempts, which also wakes the workers of the limited queues whose jobs
-- it ended: their places are free now. Unlimited queues pay one probe of queue_limits_scope_key
-- per call (an empty table's, when no limit is set).
CREATE OR REPLACE FUNCTION porter.end_attempts(worker_id text, started jsonb, outcomes jsonb, job_events boolean) RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    changed bigint[];
    ended bigint[];
    queues text[];
    sent bigint;
    previous text := current_setting('porter.worker_statement', true);
    -- The moment of the write, for ended_at, the error's time and a retry's run_at alike, so
    -- a retry is due exactly its delay after the failure it records. Not now(): in an sql:
    -- job's transaction that is the start of the job, and here it is before the events above.
    written_at timestamptz;
BEGIN
    IF worker_id IS NULL THEN
        RAISE EXCEPTION 'porter.end_attempts: worker_id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', COLUMN = 'worker_id';
    END IF;
    IF started IS NOT NULL AND jsonb_array_length(started) > 0 THEN
        SELECT count(pg_notify('porter_realtime', porter.job_event_payload(s.id, 'started', s.method, s.queue, s.attempt, NULL)))
        INTO sent
        FROM jsonb_to_recordset(started) AS s(id bigint, method text, queue text, attempt integer);
    END IF;
    IF outcomes IS NULL OR jsonb_array_length(outcomes) = 0 THEN
        RETURN;
    END IF;
    -- A worker with job events off sends none for this transaction, its dependants' included,
    -- as the UPDATE it replaces did (migration 0009).
    IF NOT job_events THEN
        PERFORM set_config('porter.job_events', 'off', true);
    END IF;
    PERFORM set_config('porter.worker_statement', 'on', true);
    written_at := clock_timestamp();
    WITH updated AS (
        UPDATE porter.jobs AS j
        SET status = o.status,
            started_at = CASE WHEN o.status = 'queued' THEN NULL ELSE j.started_at END,
            ended_at = CASE WHEN o.status IN ('finished', 'failed', 'canceled') THEN written_at END,
            attempts = CASE WHEN o.status = 'queued' THEN greatest(j.attempts - 1, 0) ELSE j.attempts END,
            result = CASE WHEN o.status = 'queued' THEN j.result ELSE o.result END,
            error = CASE WHEN o.status = 'queued' THEN coalesce(o.error, j.error) ELSE o.error END,
            orphaned = CASE WHEN o.orphaned THEN least(j.orphaned, 2147483646) + 1 ELSE j.orphaned END,
            errors = CASE WHEN o.error IS NULL THEN j.errors
                          ELSE j.errors || jsonb_build_array(jsonb_build_object(
                              'attempt', j.attempts, 'error', o.error, 'at', written_at, 'worker', j.worker_id)) END,
            run_at = CASE WHEN o.status = 'scheduled' THEN written_at + make_interval(secs => o.retry_in) ELSE j.run_at END,
            worker_id = NULL,
            cancel_requested_at = NULL
        FROM jsonb_to_recordset(outcomes)
             AS o(id bigint, attempt integer, status text, result jsonb, error text, retry_in float8, orphaned boolean)
        WHERE j.id = o.id AND j.status = 'started' AND j.worker_id = end_attempts.worker_id AND j.attempts = o.attempt
        RETURNING j.id, j.status, j.method, j.queue, j.attempts, j.error
    )
    SELECT array_agg(u.id),
           array_agg(u.id) FILTER (WHERE u.status IN ('finished', 'failed', 'canceled')),
           array_agg(DISTINCT u.queue),
           count(CASE WHEN job_events THEN pg_notify('porter_realtime',
                 porter.job_event_payload(u.id, u.status, u.method, u.queue, u.attempts, u.error)) END)
    INTO changed, ended, queues, sent
    FROM updated u;
    PERFORM set_config('porter.worker_statement', coalesce(previous, ''), true);
    -- Places freed in limited queues: their workers claim again now.
    IF queues IS NOT NULL AND EXISTS (SELECT FROM porter.queue_limits l WHERE l.queue = ANY(queues)) THEN
        PERFORM pg_notify('porter_enqueue', l.queue) FROM (SELECT DISTINCT l.queue FROM porter.queue_limits l WHERE l.queue = ANY(queues)) AS l;
    END IF;
    -- Nothing is deferred, the usual case: one probe of jobs_deferred_idx and no call.
    IF ended IS NOT NULL AND EXISTS (SELECT FROM porter.jobs WHERE status = 'deferred') THEN
        PERFORM porter.release_dependants_of(ended);
    END IF;
    RETURN QUERY SELECT unnest(changed);
END
$$;

-- 0018's row trigger, which also wakes the workers of a limited queue when another writer
-- (porter cancel, a rescue, a bulk action) ends or hands back one of its started jobs.
CREATE OR REPLACE FUNCTION porter.job_status_changed() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF current_setting('porter.job_events', true) IS DISTINCT FROM 'off' THEN
        PERFORM pg_notify('porter_realtime', porter.job_event_payload(NEW.id, NEW.status, NEW.method, NEW.queue, NEW.attempts, NEW.error));
    END IF;
    IF NEW.status IN ('finished', 'failed', 'canceled') THEN
        PERFORM porter.release_dependants_of(ARRAY[NEW.id]);
    END IF;
    IF OLD.status = 'started' AND EXISTS (SELECT FROM porter.queue_limits l WHERE l.queue = NEW.queue) THEN
        PERFORM pg_notify('porter_enqueue', NEW.queue);
    END IF;
    RETURN NULL;
END
$$;

-- porter.enqueue with limit_key, debounce and debounce_max after 0019's parameters: a new
-- signature, so the old one is dropped. Positional calls of the first eleven arguments (the
-- Swift clients', porter.enqueue_many's, porter.enqueue_doc's) and named calls (triggers)
-- resolve to this one unchanged. debounce is migration 0021's; here it is refused.
DROP FUNCTION porter.enqueue(text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[]);
CREATE FUNCTION porter.enqueue(
    method text, args jsonb DEFAULT '{}'::jsonb, queue text DEFAULT 'default'::text, job_id text DEFAULT NULL::text,
    deduplicate boolean DEFAULT false, at_front boolean DEFAULT false, timeout integer DEFAULT NULL::integer,
    run_at timestamp with time zone DEFAULT NULL::timestamp with time zone, priority integer DEFAULT 0,
    max_attempts integer DEFAULT NULL::integer, depends_on bigint[] DEFAULT NULL::bigint[],
    limit_key text DEFAULT NULL, debounce interval DEFAULT NULL, debounce_max interval DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    new_id bigint;
    parents record;
    waiting boolean := false;
    dead_parent bigint;
    dead_status text;
    dead_method text;
    -- A variable, so that porter.enqueue_valid below is inlined (an argument that is a call,
    -- used several times, would stop it).
    limits porter.settings;
    lowered text := current_setting('porter.max_args_bytes', true);
BEGIN
    -- porter.effective_settings(), inline: the owner's limits, with max_args_bytes lowered by
    -- the session's porter.max_args_bytes when that is set.
    SELECT * INTO STRICT limits FROM porter.settings;
    IF lowered ~ '^[0-9]{1,9}$' THEN
        limits.max_args_bytes := least(limits.max_args_bytes, lowered::integer);
    END IF;
    -- Parameters are qualified with the function's name: they share names with columns.
    -- check_enqueue only for its error: porter.enqueue_valid tests the same rules inline.
    IF NOT coalesce(porter.enqueue_valid(enqueue.method, enqueue.args, enqueue.queue, enqueue.job_id, enqueue.deduplicate,
                                         enqueue.timeout, enqueue.max_attempts, enqueue.run_at, limits), false) THEN
        PERFORM porter.check_enqueue(enqueue.method, enqueue.args, enqueue.queue, enqueue.job_id,
                                     enqueue.deduplicate, enqueue.timeout, enqueue.max_attempts, enqueue.run_at);
    END IF;
    IF enqueue.limit_key IS NOT NULL AND (btrim(enqueue.limit_key) = '' OR octet_length(enqueue.limit_key) > limits.max_method_bytes) THEN
        PERFORM porter.check_limit_key(enqueue.limit_key, 'porter.enqueue');
    END IF;
    IF enqueue.debounce IS NOT NULL OR enqueue.debounce_max IS NOT NULL THEN
        RAISE EXCEPTION 'porter.enqueue: debounce is not available in this schema version'
            USING ERRCODE = 'feature_not_supported', COLUMN = 'debounce',
                  HINT = 'run porter migrate to the latest version';
    END IF;
    IF cardinality(enqueue.depends_on) > 0 THEN
        parents := porter.lock_parents(enqueue.depends_on);
        waiting := parents.waiting;
        dead_parent := parents.dead_parent;
        dead_status := parents.dead_status;
        dead_method := parents.dead_method;
    END IF;
    -- The two INSERTs differ only in ON CONFLICT, which a job without job_id cannot need.
    IF enqueue.job_id IS NULL THEN
        INSERT INTO porter.jobs AS j
            (job_id, method, queue, args, status, priority, at_front, max_attempts, timeout, run_at,
             depends_on, ended_at, error, limit_key)
        VALUES (NULL, enqueue.method, enqueue.queue, coalesce(enqueue.args, '{}'),
                CASE WHEN dead_parent IS NOT NULL THEN 'canceled'
                     WHEN waiting THEN 'deferred'
                     WHEN enqueue.run_at > now() THEN 'scheduled' ELSE 'queued' END,
                coalesce(enqueue.priority, 0), coalesce(enqueue.at_front, false), enqueue.max_attempts,
                enqueue.timeout, coalesce(enqueue.run_at, now()), nullif(enqueue.depends_on, '{}'),
                CASE WHEN dead_parent IS NOT NULL THEN now() END,
                CASE WHEN dead_parent IS NOT NULL THEN porter.dependency_error(dead_parent, dead_method, dead_status) END,
                enqueue.limit_key)
        RETURNING j.id INTO new_id;
        RETURN new_id;
    END IF;
    INSERT INTO porter.jobs AS j
        (job_id, method, queue, args, status, priority, at_front, max_attempts, timeout, run_at,
         depends_on, ended_at, error, limit_key)
    VALUES (enqueue.job_id, enqueue.method, enqueue.queue, coalesce(enqueue.args, '{}'),
            CASE WHEN dead_parent IS NOT NULL THEN 'canceled'
                 WHEN waiting THEN 'deferred'
                 WHEN enqueue.run_at > now() THEN 'scheduled' ELSE 'queued' END,
            coalesce(enqueue.priority, 0), coalesce(enqueue.at_front, false), enqueue.max_attempts,
            enqueue.timeout, coalesce(enqueue.run_at, now()), nullif(enqueue.depends_on, '{}'),
            CASE WHEN dead_parent IS NOT NULL THEN now() END,
            CASE WHEN dead_parent IS NOT NULL THEN porter.dependency_error(dead_parent, dead_method, dead_status) END,
            enqueue.limit_key)
    ON CONFLICT (job_id) WHERE job_id IS NOT NULL AND status IN ('queued', 'scheduled', 'started', 'deferred') DO NOTHING
    RETURNING j.id INTO new_id;
    IF new_id IS NULL AND NOT coalesce(enqueue.deduplicate, false) THEN
        PERFORM porter.raise_duplicate_job_id(enqueue.job_id);
    END IF;
    RETURN new_id;
END
$$;

-- 0013's porter.enqueue_many, with the "limit_key" key: each key checked as porter.enqueue
-- checks it, before anything is inserted.
CREATE OR REPLACE FUNCTION porter.enqueue_many(jobs jsonb)
RETURNS TABLE (ord bigint, id bigint)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    limits porter.settings := porter.effective_settings();
    bad_key text;
BEGIN
    IF jobs IS NULL OR jsonb_typeof(jobs) <> 'array' THEN
        RAISE EXCEPTION 'porter.enqueue_many: jobs must be a JSON array of job objects'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'jobs';
    END IF;
    IF jsonb_path_exists(jobs, '$[*].limit_key') THEN
        SELECT x.limit_key INTO bad_key
        FROM jsonb_array_elements(jobs) AS e(spec)
        CROSS JOIN LATERAL jsonb_to_record(e.spec) AS x(limit_key text)
        WHERE btrim(x.limit_key) = '' OR octet_length(x.limit_key) > limits.max_method_bytes
        LIMIT 1;
        IF FOUND THEN
            PERFORM porter.check_limit_key(bad_key, 'porter.enqueue_many');
        END IF;
    END IF;
    IF NOT jsonb_path_exists(jobs, '$[*].depends_on[*]') THEN
        RETURN QUERY
        WITH spec AS (
            SELECT e.ord, x.method, x.args, x.job_id, x.deduplicate, x.at_front, x.timeout,
                   x.priority, x.max_attempts, x.limit_key,
                   -- A missing queue key means 'default'; an explicit null is refused.
                   CASE WHEN e.spec ? 'queue' THEN x.queue ELSE 'default' END AS queue,
                   coalesce(x.run_at, now() + make_interval(secs => coalesce(x.delay, 0))) AS effective_run_at
            FROM jsonb_array_elements(jobs) WITH ORDINALITY AS e(spec, ord)
            CROSS JOIN LATERAL jsonb_to_record(e.spec) AS x(
                method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean,
                timeout integer, run_at timestamptz, delay double precision, priority integer, max_attempts integer,
                limit_key text)
        ), input AS MATERIALIZED (
            SELECT s.*,
                   nextval(pg_get_serial_sequence('porter.jobs', 'id')) AS new_id,
                   CASE WHEN porter.enqueue_valid(s.method, s.args, s.queue, s.job_id, s.deduplicate, s.timeout,
                                                  s.max_attempts, s.effective_run_at, limits)
                        THEN true
                        ELSE porter.check_enqueue(s.method, s.args, s.queue, s.job_id, s.deduplicate, s.timeout,
                                                  s.max_attempts, s.effective_run_at) END AS valid
            FROM spec s
        ), inserted AS (
            INSERT INTO porter.jobs AS j
                (id, job_id, method, queue, args, status, priority, at_front, max_attempts, timeout, run_at, limit_key)
            SELECT i.new_id, i.job_id, i.method, i.queue, coalesce(i.args, '{}'),
                   CASE WHEN i.effective_run_at > now() THEN 'scheduled' ELSE 'queued' END,
                   coalesce(i.priority, 0), coalesce(i.at_front, false), i.max_attempts, i.timeout,
                   i.effective_run_at, i.limit_key
            FROM input i
            ORDER BY i.ord
            ON CONFLICT (job_id) WHERE job_id IS NOT NULL AND status IN ('queued', 'scheduled', 'started', 'deferred') DO NOTHING
            RETURNING j.id
        )
        SELECT i.ord,
               CASE WHEN ins.id IS NULL AND NOT coalesce(i.deduplicate, false)
                    THEN porter.raise_duplicate_job_id(i.job_id)
                    ELSE ins.id END
        FROM input i
        LEFT JOIN inserted ins ON ins.id = i.new_id
        ORDER BY i.ord;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT e.ord,
           porter.enqueue(x.method, x.args, CASE WHEN e.spec ? 'queue' THEN x.queue ELSE 'default' END,
                          x.job_id, x.deduplicate, x.at_front, x.timeout,
                          coalesce(x.run_at, now() + make_interval(secs => coalesce(x.delay, 0))),
                          x.priority, x.max_attempts, x.depends_on, x.limit_key)
    FROM jsonb_array_elements(jobs) WITH ORDINALITY AS e(spec, ord)
    CROSS JOIN LATERAL jsonb_to_record(e.spec) AS x(
        method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean,
        timeout integer, run_at timestamptz, delay double precision, priority integer, max_attempts integer,
        depends_on bigint[], limit_key text)
    ORDER BY e.ord;
END
$$;

-- No new function is callable by PUBLIC (migration 0013). The new porter.enqueue replaces the
-- old one in every kind's grants; the worker may set and clear limits and claims limited
-- queues; the reader reads the limits.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA porter FROM PUBLIC;
DELETE FROM porter.privileges
WHERE object = 'FUNCTION porter.enqueue(text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[])';
INSERT INTO porter.privileges (kind, privilege, object) VALUES
    ('enqueuer', 'EXECUTE', 'FUNCTION porter.enqueue(text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[], text, interval, interval)'),
    ('enqueuer', 'EXECUTE', 'FUNCTION porter.check_limit_key(text, text)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.enqueue(text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[], text, interval, interval)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.check_limit_key(text, text)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.set_limit(text, text, boolean, integer, integer, interval, boolean)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.clear_limit(text, text, boolean)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.claim_limited(text, text, integer, text[], text[])'),
    ('worker', 'SELECT', 'TABLE porter.queue_limits'),
    ('worker', 'SELECT', 'TABLE porter.limits'),
    ('worker', 'SELECT, INSERT, DELETE', 'TABLE porter.limit_starts'),
    ('worker', 'SELECT, INSERT, UPDATE', 'TABLE porter.limit_turns'),
    ('reader', 'SELECT', 'TABLE porter.limits');
SELECT porter.refresh_grants();
