-- schema/porter.sql: the schema `porter` as migrations/0001… leave it on a fresh database,
-- dumped by pg_dump (schema only, no owners). Read it to see a table, an index or a function
-- as it is today; change it only through a new migration, then run scripts/dump-schema.
-- SchemaFileTests fails while this file and the migrations differ.
--
-- Where the contract's words live. Swift writes each list once, in Sources/Porter/Contract/;
-- SQL cannot share a constant between a constraint, an index predicate and a function
-- body, so each list below is defined once and repeated where PostgreSQL needs its text:
--   * every status: CHECK jobs_status_valid (Swift: JobStatus);
--   * active (queued, scheduled, started, deferred): the predicate of the unique index
--     jobs_job_id_active_key (less a debounced job once started: the next enqueue of its
--     job_id makes a new job); enqueue, enqueue_many and retry_jobs repeat it, since an
--     ON CONFLICT clause must imply the predicate of the index it arbitrates on
--     (Swift: JobStatus.active);
--   * ended (finished, failed, canceled): CHECK jobs_ended_at_when_ended and index
--     jobs_ended_at_idx; end_attempts and job_status_changed repeat it (JobStatus.ended);
--   * claimable (queued, scheduled): the predicate of indexes jobs_claim_idx and
--     jobs_limit_claim_idx, which porter.claim_queued and porter.claim_limited repeat so
--     that the planner can use them (JobStatus.claimable);
--   * NOTIFY channels: porter_enqueue (a queue has runnable jobs, or a limited job
--     ended and freed its place; payload the queue),
--     porter_realtime (job events, progress, publish_realtime; JSON), and porter_cancel
--     (sent by the Swift client; payload a job id) (Swift: PorterChannel);
--   * session settings read with current_setting: porter.job_events,
--     porter.worker_statement, porter.current_job_id, porter.relay_progress,
--     porter.max_args_bytes, porter.traceparent, porter.tracestate; limits live in the
--     table porter.settings (Swift: PorterSetting);
--   * advisory lock keys: PorterLockKey in Swift, and one transaction lock per limited
--     queue that porter.claim_limited takes on hashtextextended('porter.claim_limited ' ||
--     queue, 0), a one-key lock.
--
-- PostgreSQL database dump
--



SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: porter; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA porter;


--
-- Name: cancel_jobs(text, text, timestamp with time zone, text, integer); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.cancel_jobs(queue text DEFAULT NULL::text, method text DEFAULT NULL::text, before timestamp with time zone DEFAULT NULL::timestamp with time zone, status text DEFAULT 'queued'::text, max_jobs integer DEFAULT 1000) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    changed integer;
BEGIN
    PERFORM porter.check_bulk('porter.cancel_jobs', cancel_jobs.status, ARRAY['queued', 'scheduled', 'deferred'], cancel_jobs.max_jobs);
    EXECUTE $q$
        WITH picked AS (
            SELECT j.id FROM porter.jobs j
            WHERE j.status = $1 AND ($2::text IS NULL OR j.queue = $2) AND ($3::text IS NULL OR j.method = $3)
              AND j.enqueued_at < coalesce($4, now())
            LIMIT $5
            FOR UPDATE SKIP LOCKED
        )
        UPDATE porter.jobs AS j SET status = 'canceled', ended_at = now(), error = 'canceled', cancel_requested_at = NULL
        FROM picked WHERE j.id = picked.id
    $q$
    USING cancel_jobs.status, cancel_jobs.queue, cancel_jobs.method, cancel_jobs.before, cancel_jobs.max_jobs;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$_$;


--
-- Name: check_bulk(text, text, text[], integer); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.check_bulk(caller text, status text, allowed text[], max_jobs integer) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF status IS NULL OR NOT status = ANY(allowed) THEN
        RAISE EXCEPTION '%: status must be one of %, got %', caller, array_to_string(allowed, ', '), coalesce(status, 'NULL')
            USING ERRCODE = CASE WHEN status IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END,
                  COLUMN = 'status';
    END IF;
    IF max_jobs IS NULL OR max_jobs < 1 THEN
        RAISE EXCEPTION '%: max_jobs must be at least 1, got %', caller, coalesce(max_jobs::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'max_jobs',
                  HINT = 'each call changes at most max_jobs jobs; call it again until it returns 0';
    END IF;
END
$$;


--
-- Name: check_enqueue(text, jsonb, text, text, boolean, integer, integer, timestamp with time zone); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.check_enqueue(method text, args jsonb, queue text, job_id text, deduplicate boolean, timeout integer, max_attempts integer, run_at timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    limits porter.settings := porter.effective_settings();
BEGIN
    IF method IS NULL THEN
        RAISE EXCEPTION 'porter.enqueue: method must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', COLUMN = 'method',
                  HINT = 'pass the job''s method name, e.g. method => ''app.tasks.sync_stock''';
    END IF;
    IF btrim(method) = '' THEN
        RAISE EXCEPTION 'porter.enqueue: method must not be empty'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'method',
                  HINT = 'pass the job''s method name, e.g. method => ''app.tasks.sync_stock''';
    END IF;
    IF octet_length(method) > limits.max_method_bytes THEN
        RAISE EXCEPTION 'porter.enqueue: method is % bytes, over the limit of % bytes', octet_length(method), limits.max_method_bytes
            USING ERRCODE = 'program_limit_exceeded', COLUMN = 'method',
                  HINT = 'use a shorter method name; the schema''s owner may raise the limit with SELECT porter.set_limit(''max_method_bytes'', n)';
    END IF;
    IF args IS NOT NULL AND jsonb_typeof(args) <> 'object' THEN
        RAISE EXCEPTION 'porter.enqueue: args must be a JSON object, got a JSON %', jsonb_typeof(args)
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'args',
                  HINT = 'wrap the values in an object of named arguments, e.g. {"outlet": "A1"}';
    END IF;
    IF args IS NOT NULL AND pg_column_size(args) > limits.max_args_bytes THEN
        RAISE EXCEPTION 'porter.enqueue: args are % bytes, over the limit of % bytes', pg_column_size(args), limits.max_args_bytes
            USING ERRCODE = 'program_limit_exceeded', COLUMN = 'args',
                  HINT = 'store large data in a table and pass its key; the schema''s owner may raise the limit with SELECT porter.set_limit(''max_args_bytes'', n)';
    END IF;
    IF queue IS NULL OR btrim(queue) = '' THEN
        RAISE EXCEPTION 'porter.enqueue: queue must be a non-empty name'
            USING ERRCODE = CASE WHEN queue IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END,
                  COLUMN = 'queue', HINT = 'use short, default, long or a queue from your config';
    END IF;
    IF octet_length(queue) > limits.max_queue_bytes THEN
        RAISE EXCEPTION 'porter.enqueue: queue is % bytes, over the limit of % bytes', octet_length(queue), limits.max_queue_bytes
            USING ERRCODE = 'program_limit_exceeded', COLUMN = 'queue',
                  HINT = 'use a shorter queue name; the schema''s owner may raise the limit with SELECT porter.set_limit(''max_queue_bytes'', n)';
    END IF;
    IF octet_length(job_id) > limits.max_job_id_bytes THEN
        RAISE EXCEPTION 'porter.enqueue: job_id is % bytes, over the limit of % bytes', octet_length(job_id), limits.max_job_id_bytes
            USING ERRCODE = 'program_limit_exceeded', COLUMN = 'job_id',
                  HINT = 'use a shorter key, e.g. a hash of the long one; the schema''s owner may raise the limit with SELECT porter.set_limit(''max_job_id_bytes'', n)';
    END IF;
    IF timeout IS NOT NULL AND timeout <= 0 THEN
        RAISE EXCEPTION 'porter.enqueue: timeout must be a positive number of seconds, got %', timeout
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'timeout',
                  HINT = 'leave timeout NULL to use the queue''s timeout';
    END IF;
    IF max_attempts IS NOT NULL AND max_attempts < 1 THEN
        RAISE EXCEPTION 'porter.enqueue: max_attempts must be at least 1, got %', max_attempts
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'max_attempts',
                  HINT = 'max_attempts counts the first run: 1 means no retries';
    END IF;
    IF coalesce(deduplicate, false) AND job_id IS NULL THEN
        RAISE EXCEPTION 'porter.enqueue: deduplicate requires a job_id'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'job_id',
                  HINT = 'pass job_id => ''...'' naming the work to deduplicate, as frappe.enqueue requires';
    END IF;
    IF NOT isfinite(run_at) THEN
        RAISE EXCEPTION 'porter.enqueue: run_at must be a finite time, got %', run_at
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'run_at',
                  HINT = 'a job with run_at infinity would never run; pass a time, or leave run_at NULL to run now';
    END IF;
    RETURN true;
END
$$;


--
-- Name: check_limit_key(text, text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.check_limit_key(limit_key text, caller text) RETURNS void
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


--
-- Name: check_queue_name(text, text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.check_queue_name(queue text, caller text) RETURNS void
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    limits porter.settings := porter.effective_settings();
BEGIN
    IF queue IS NULL OR btrim(queue) = '' THEN
        RAISE EXCEPTION '%: queue must be a non-empty name', caller
            USING ERRCODE = CASE WHEN queue IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END,
                  COLUMN = 'queue', HINT = format('name the queue, e.g. %s(''default'')', caller);
    END IF;
    -- A name no job can have (porter.enqueue refuses it), and one too long for the primary key.
    IF octet_length(queue) > limits.max_queue_bytes THEN
        RAISE EXCEPTION '%: queue is % bytes, over the limit of % bytes', caller, octet_length(queue), limits.max_queue_bytes
            USING ERRCODE = 'program_limit_exceeded', COLUMN = 'queue',
                  HINT = 'no job can be enqueued on such a queue; the schema''s owner may raise the limit with SELECT porter.set_limit(''max_queue_bytes'', n)';
    END IF;
END
$$;


--
-- Name: check_trace_context(text, text, text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.check_trace_context(traceparent text, tracestate text, caller text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
BEGIN
    IF traceparent IS NULL AND tracestate IS NOT NULL THEN
        RAISE EXCEPTION '%: tracestate needs a traceparent', caller
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'tracestate',
                  HINT = 'pass the W3C traceparent the tracestate came with, e.g. traceparent => ''00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01''';
    END IF;
    IF NOT coalesce(traceparent ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$'
                    AND left(traceparent, 2) <> 'ff'
                    AND substr(traceparent, 4, 32) <> '00000000000000000000000000000000'
                    AND substr(traceparent, 37, 16) <> '0000000000000000', false) THEN
        RAISE EXCEPTION '%: traceparent % is not a W3C traceparent: expected version-traceid-parentid-flags, 2, 32, 16 and 2 lowercase hex digits, version not ff, ids not all zeros',
                caller, quote_literal(porter.left_bytes(traceparent, 80))
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'traceparent',
                  HINT = 'e.g. traceparent => ''00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01''';
    END IF;
    IF octet_length(tracestate) > 512 THEN
        RAISE EXCEPTION '%: tracestate is % bytes, more than the 512 W3C propagates (it starts %)',
                caller, octet_length(tracestate), quote_literal(porter.left_bytes(tracestate, 80))
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'tracestate',
                  HINT = 'pass at most 512 bytes of vendor entries, e.g. tracestate => ''congo=t61rcWkgMzE''';
    END IF;
END
$_$;


--
-- Name: claim_limited(text, text, integer, text[], text[]); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.claim_limited(queue text, worker_id text, wanted integer, skip_methods text[] DEFAULT NULL::text[], skip_documents text[] DEFAULT NULL::text[]) RETURNS TABLE(claimed_id bigint, claimed_job_id text, claimed_method text, claimed_queue text, claimed_args jsonb, claimed_attempt integer, claimed_max_attempts integer, claimed_timeout integer, claimed_orphaned integer, wait_seconds double precision)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    AS $$
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


--
-- Name: claim_queued(text, text, integer, text[], text[]); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.claim_queued(queue text, worker_id text, wanted integer, skip_methods text[] DEFAULT NULL::text[], skip_documents text[] DEFAULT NULL::text[]) RETURNS TABLE(claimed_id bigint, claimed_job_id text, claimed_method text, claimed_queue text, claimed_args jsonb, claimed_attempt integer, claimed_max_attempts integer, claimed_timeout integer, claimed_orphaned integer, wait_seconds double precision)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET enable_indexscan TO 'on'
    SET enable_bitmapscan TO 'off'
    SET enable_sort TO 'off'
    SET enable_seqscan TO 'off'
    SET plan_cache_mode TO 'force_generic_plan'
    SET jit TO 'off'
    AS $$
#variable_conflict use_column
BEGIN
    IF wanted IS NULL OR wanted <= 0 OR worker_id IS NULL THEN
        RETURN;
    END IF;
    -- A paused queue, or one with limits: one probe each of paused_queues_pkey and
    -- queue_limits_scope_key per claim, not per row.
    IF EXISTS (SELECT FROM porter.paused_queues p WHERE p.queue = claim_queued.queue)
       OR EXISTS (SELECT FROM porter.queue_limits l WHERE l.queue = claim_queued.queue) THEN
        RETURN;
    END IF;
    -- Local to the transaction, so they outlast this function: no wait for the WAL flush
    -- (JobRunQueries says why that is safe), and the status trigger skips these rows (the
    -- worker sends their started events itself).
    PERFORM set_config('synchronous_commit', 'off', true), set_config('porter.worker_statement', 'on', true);
    RETURN QUERY
    WITH next AS (
        -- jobs_claim_idx, walked in its order from the queue's first runnable job.
        SELECT j.id FROM porter.jobs j
        WHERE j.queue = claim_queued.queue AND j.status IN ('queued', 'scheduled') AND j.run_at <= now()
          AND (skip_methods IS NULL OR j.method <> ALL(skip_methods))
          AND (skip_documents IS NULL OR NOT (j.method = 'porter.run_doc_method'
               AND (j.args->>'doctype') || '.' || (j.args->>'doc_method') = ANY(skip_documents)))
        ORDER BY j.at_front DESC, j.priority, j.run_at, j.id
        LIMIT wanted
        FOR UPDATE SKIP LOCKED
    )
    -- jobs_pkey, once per job taken.
    UPDATE porter.jobs AS j
    SET status = 'started', started_at = now(), ended_at = NULL,
        attempts = least(j.attempts, 2147483646) + 1,
        worker_id = claim_queued.worker_id, cancel_requested_at = NULL
    FROM next WHERE j.id = next.id
    RETURNING j.id, j.job_id, j.method, j.queue, j.args, j.attempts, j.max_attempts, j.timeout, j.orphaned,
        date_part('epoch', now() - greatest(j.run_at, least(j.enqueued_at, now())))::float8;
END
$$;


--
-- Name: clear_limit(text, text, boolean); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.clear_limit(queue text, limit_key text DEFAULT NULL::text, each_key boolean DEFAULT false) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


--
-- Name: current_job_id(); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.current_job_id() RETURNS bigint
    LANGUAGE sql STABLE
    RETURN (NULLIF(current_setting('porter.current_job_id'::text, true), ''::text))::bigint;


--
-- Name: delete_jobs(interval, text, text, text, integer); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.delete_jobs(older_than interval, queue text DEFAULT NULL::text, method text DEFAULT NULL::text, status text DEFAULT 'failed'::text, max_jobs integer DEFAULT 1000) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    changed integer;
BEGIN
    PERFORM porter.check_bulk('porter.delete_jobs', delete_jobs.status, ARRAY['failed', 'canceled', 'finished'], delete_jobs.max_jobs);
    IF older_than IS NULL OR older_than < interval '0' THEN
        RAISE EXCEPTION 'porter.delete_jobs: older_than must be a positive interval, got %', coalesce(older_than::text, 'NULL')
            USING ERRCODE = CASE WHEN older_than IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END,
                  COLUMN = 'older_than', HINT = 'e.g. older_than => interval ''7 days''';
    END IF;
    EXECUTE $q$
        DELETE FROM porter.jobs WHERE id IN (
            SELECT j.id FROM porter.jobs j
            WHERE j.status = $1 AND j.ended_at < now() - $2
              AND ($3::text IS NULL OR j.queue = $3) AND ($4::text IS NULL OR j.method = $4)
            LIMIT $5
            FOR UPDATE SKIP LOCKED)
    $q$
    USING delete_jobs.status, delete_jobs.older_than, delete_jobs.queue, delete_jobs.method, delete_jobs.max_jobs;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$_$;


--
-- Name: dependency_error(bigint, text, text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.dependency_error(parent bigint, parent_method text, parent_status text) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN format('canceled: job %s (%s), which this job depends on, %s'::text, parent, parent_method, parent_status);


SET default_table_access_method = heap;

--
-- Name: settings; Type: TABLE; Schema: porter; Owner: -
--

CREATE TABLE porter.settings (
    singleton boolean DEFAULT true NOT NULL,
    max_args_bytes integer DEFAULT 1048576 NOT NULL,
    max_method_bytes integer DEFAULT 256 NOT NULL,
    max_queue_bytes integer DEFAULT 128 NOT NULL,
    max_job_id_bytes integer DEFAULT 512 NOT NULL,
    max_event_bytes integer DEFAULT 128 NOT NULL,
    max_message_bytes integer DEFAULT 1048576 NOT NULL,
    max_stored_messages integer DEFAULT 10000 NOT NULL,
    CONSTRAINT settings_limits_in_range CHECK ((((max_args_bytes >= 1) AND (max_args_bytes <= 268435455)) AND ((max_message_bytes >= 1) AND (max_message_bytes <= 268435455)) AND ((max_method_bytes >= 1) AND (max_method_bytes <= 1048576)) AND ((max_queue_bytes >= 1) AND (max_queue_bytes <= 1048576)) AND ((max_job_id_bytes >= 1) AND (max_job_id_bytes <= 1048576)) AND ((max_event_bytes >= 1) AND (max_event_bytes <= 1048576)) AND ((max_stored_messages >= 0) AND (max_stored_messages <= 1000000000)))),
    CONSTRAINT settings_one_row CHECK (singleton)
);


--
-- Name: TABLE settings; Type: COMMENT; Schema: porter; Owner: -
--

COMMENT ON TABLE porter.settings IS 'Porter''s limits; change them with porter.set_limit (the schema''s owner only).';


--
-- Name: effective_settings(); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.effective_settings() RETURNS porter.settings
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    limits porter.settings;
    lowered text := current_setting('porter.max_args_bytes', true);
BEGIN
    SELECT * INTO STRICT limits FROM porter.settings;
    IF lowered ~ '^[0-9]{1,9}$' THEN
        limits.max_args_bytes := least(limits.max_args_bytes, lowered::integer);
    END IF;
    RETURN limits;
END
$_$;


--
-- Name: end_attempts(text, jsonb, jsonb, boolean); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.end_attempts(worker_id text, started jsonb, outcomes jsonb, job_events boolean) RETURNS SETOF bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET enable_hashjoin TO 'off'
    SET enable_mergejoin TO 'off'
    SET enable_seqscan TO 'off'
    SET enable_bitmapscan TO 'off'
    SET enable_indexscan TO 'on'
    SET enable_nestloop TO 'on'
    AS $$
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
        -- Only for attempts this worker still holds: a retry of a call that committed, its
        -- answer lost, finds them ended, and sends no second `started` after their end. One
        -- probe of jobs_pkey per event, written as the UPDATE below is (status from `was`,
        -- the worker compared with IS NOT DISTINCT FROM) so that no partial index matches.
        SELECT count(pg_notify('porter_realtime', porter.job_event_payload(s.id, 'started', s.method, s.queue, s.attempt, NULL)))
        INTO sent
        FROM jsonb_to_recordset(started) AS s(id bigint, method text, queue text, attempt integer, was text)
        WHERE EXISTS (SELECT FROM porter.jobs j
                      WHERE j.id = s.id AND j.status = coalesce(s.was, 'started')
                        AND j.worker_id IS NOT DISTINCT FROM end_attempts.worker_id AND j.attempts = s.attempt);
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
             AS o(id bigint, attempt integer, status text, result jsonb, error text, retry_in float8, orphaned boolean,
                  was text)
        -- One probe of jobs_pkey per outcome: j.id = o.id is the only condition an index can
        -- serve. The worker is compared with IS NOT DISTINCT FROM, which no index serves,
        -- and the status with the one each outcome expects (o.was, which no caller sends:
        -- 'started'), so that the statement implies no partial index's predicate. Served by
        -- jobs_started_worker_idx, it walked every entry this worker had left there since
        -- the last vacuum, with a bitmap scan, which never marks them dead.
        WHERE j.id = o.id AND j.status = coalesce(o.was, 'started') AND j.worker_id IS NOT DISTINCT FROM end_attempts.worker_id
          AND j.attempts = o.attempt
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


--
-- Name: enqueue(text, jsonb, text, text, boolean, boolean, integer, timestamp with time zone, integer, integer, bigint[], text, interval, interval, text, text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.enqueue(method text, args jsonb DEFAULT '{}'::jsonb, queue text DEFAULT 'default'::text, job_id text DEFAULT NULL::text, deduplicate boolean DEFAULT false, at_front boolean DEFAULT false, timeout integer DEFAULT NULL::integer, run_at timestamp with time zone DEFAULT NULL::timestamp with time zone, priority integer DEFAULT 0, max_attempts integer DEFAULT NULL::integer, depends_on bigint[] DEFAULT NULL::bigint[], limit_key text DEFAULT NULL::text, debounce interval DEFAULT NULL::interval, debounce_max interval DEFAULT NULL::interval, traceparent text DEFAULT NULL::text, tracestate text DEFAULT NULL::text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
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
    -- The context stored: the caller's, else the transaction's (porter.traceparent).
    trace_parent text := enqueue.traceparent;
    trace_state text := enqueue.tracestate;
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
    IF trace_parent IS NULL AND trace_state IS NULL THEN
        trace_parent := nullif(current_setting('porter.traceparent', true), '');
        IF trace_parent IS NOT NULL THEN
            trace_state := nullif(current_setting('porter.tracestate', true), '');
            IF NOT coalesce(porter.trace_context_valid(trace_parent, trace_state), false) THEN
                trace_parent := NULL;
                trace_state := NULL;
            END IF;
        END IF;
    ELSIF NOT coalesce(porter.trace_context_valid(trace_parent, trace_state), false) THEN
        PERFORM porter.check_trace_context(trace_parent, trace_state, 'porter.enqueue');
    END IF;
    IF enqueue.debounce IS NOT NULL OR enqueue.debounce_max IS NOT NULL THEN
        RETURN porter.enqueue_debounced(enqueue.method, enqueue.args, enqueue.queue, enqueue.job_id, enqueue.deduplicate,
                                        enqueue.at_front, enqueue.timeout, enqueue.run_at, enqueue.priority,
                                        enqueue.max_attempts, enqueue.depends_on, enqueue.limit_key, enqueue.debounce,
                                        enqueue.debounce_max, trace_parent, trace_state);
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
             depends_on, ended_at, error, limit_key, traceparent, tracestate)
        VALUES (NULL, enqueue.method, enqueue.queue, coalesce(enqueue.args, '{}'),
                CASE WHEN dead_parent IS NOT NULL THEN 'canceled'
                     WHEN waiting THEN 'deferred'
                     WHEN enqueue.run_at > now() THEN 'scheduled' ELSE 'queued' END,
                coalesce(enqueue.priority, 0), coalesce(enqueue.at_front, false), enqueue.max_attempts,
                enqueue.timeout, coalesce(enqueue.run_at, now()), nullif(enqueue.depends_on, '{}'),
                CASE WHEN dead_parent IS NOT NULL THEN now() END,
                CASE WHEN dead_parent IS NOT NULL THEN porter.dependency_error(dead_parent, dead_method, dead_status) END,
                enqueue.limit_key, trace_parent, trace_state)
        RETURNING j.id INTO new_id;
        RETURN new_id;
    END IF;
    INSERT INTO porter.jobs AS j
        (job_id, method, queue, args, status, priority, at_front, max_attempts, timeout, run_at,
         depends_on, ended_at, error, limit_key, traceparent, tracestate)
    VALUES (enqueue.job_id, enqueue.method, enqueue.queue, coalesce(enqueue.args, '{}'),
            CASE WHEN dead_parent IS NOT NULL THEN 'canceled'
                 WHEN waiting THEN 'deferred'
                 WHEN enqueue.run_at > now() THEN 'scheduled' ELSE 'queued' END,
            coalesce(enqueue.priority, 0), coalesce(enqueue.at_front, false), enqueue.max_attempts,
            enqueue.timeout, coalesce(enqueue.run_at, now()), nullif(enqueue.depends_on, '{}'),
            CASE WHEN dead_parent IS NOT NULL THEN now() END,
            CASE WHEN dead_parent IS NOT NULL THEN porter.dependency_error(dead_parent, dead_method, dead_status) END,
            enqueue.limit_key, trace_parent, trace_state)
    ON CONFLICT (job_id) WHERE job_id IS NOT NULL AND status IN ('queued', 'scheduled', 'started', 'deferred') AND NOT (status = 'started' AND debounced) DO NOTHING
    RETURNING j.id INTO new_id;
    IF new_id IS NULL AND NOT coalesce(enqueue.deduplicate, false) THEN
        PERFORM porter.raise_duplicate_job_id(enqueue.job_id);
    END IF;
    RETURN new_id;
END
$_$;


--
-- Name: enqueue_batch(text, jsonb, text, text, boolean, boolean, integer, timestamp with time zone, integer, integer, bigint[], text, interval, interval, text, text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.enqueue_batch(method text, args jsonb, queue text DEFAULT 'default'::text, job_id text DEFAULT NULL::text, deduplicate boolean DEFAULT false, at_front boolean DEFAULT false, timeout integer DEFAULT NULL::integer, run_at timestamp with time zone DEFAULT NULL::timestamp with time zone, priority integer DEFAULT 0, max_attempts integer DEFAULT NULL::integer, depends_on bigint[] DEFAULT NULL::bigint[], limit_key text DEFAULT NULL::text, debounce interval DEFAULT NULL::interval, debounce_max interval DEFAULT NULL::interval, traceparent text DEFAULT NULL::text, tracestate text DEFAULT NULL::text) RETURNS TABLE(ord bigint, id bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    -- A variable, so that porter.enqueue_valid below is inlined.
    limits porter.settings := porter.effective_settings();
    trace_parent text := enqueue_batch.traceparent;
    trace_state text := enqueue_batch.tracestate;
    start_at timestamptz := coalesce(enqueue_batch.run_at, now());
    -- Looked up once: as an argument of nextval, pg_get_serial_sequence ran per row, a third
    -- of the batch's time.
    id_sequence regclass := pg_get_serial_sequence('porter.jobs', 'id')::regclass;
BEGIN
    IF enqueue_batch.args IS NULL OR jsonb_typeof(enqueue_batch.args) <> 'array' THEN
        RAISE EXCEPTION 'porter.enqueue_batch: args must be a JSON array of argument objects, one per job, got %',
                coalesce('a JSON ' || jsonb_typeof(enqueue_batch.args), 'NULL')
            USING ERRCODE = CASE WHEN enqueue_batch.args IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END,
                  COLUMN = 'args', HINT = 'e.g. args => ''[{"outlet": "A1"}, {"outlet": "B2"}]''';
    END IF;
    -- A batch that can deduplicate, wait for parents or merge: porter.enqueue row by row,
    -- which applies each of those rules as a single enqueue does.
    IF enqueue_batch.job_id IS NOT NULL OR cardinality(enqueue_batch.depends_on) > 0
       OR enqueue_batch.debounce IS NOT NULL OR enqueue_batch.debounce_max IS NOT NULL THEN
        RETURN QUERY
        SELECT e.ord,
               porter.enqueue(enqueue_batch.method, e.a, enqueue_batch.queue, enqueue_batch.job_id,
                              enqueue_batch.deduplicate, enqueue_batch.at_front, enqueue_batch.timeout,
                              enqueue_batch.run_at, enqueue_batch.priority, enqueue_batch.max_attempts,
                              enqueue_batch.depends_on, enqueue_batch.limit_key, enqueue_batch.debounce,
                              enqueue_batch.debounce_max, enqueue_batch.traceparent, enqueue_batch.tracestate)
        FROM jsonb_array_elements(enqueue_batch.args) WITH ORDINALITY AS e(a, ord)
        ORDER BY e.ord;
        RETURN;
    END IF;
    -- The shared options, once; check_enqueue only for its error.
    IF NOT coalesce(porter.enqueue_valid(enqueue_batch.method, '{}', enqueue_batch.queue, NULL, enqueue_batch.deduplicate,
                                         enqueue_batch.timeout, enqueue_batch.max_attempts, enqueue_batch.run_at, limits), false) THEN
        PERFORM porter.check_enqueue(enqueue_batch.method, '{}', enqueue_batch.queue, NULL, enqueue_batch.deduplicate,
                                     enqueue_batch.timeout, enqueue_batch.max_attempts, enqueue_batch.run_at);
    END IF;
    IF enqueue_batch.limit_key IS NOT NULL AND (btrim(enqueue_batch.limit_key) = '' OR octet_length(enqueue_batch.limit_key) > limits.max_method_bytes) THEN
        PERFORM porter.check_limit_key(enqueue_batch.limit_key, 'porter.enqueue_batch');
    END IF;
    IF trace_parent IS NULL AND trace_state IS NULL THEN
        trace_parent := nullif(current_setting('porter.traceparent', true), '');
        IF trace_parent IS NOT NULL THEN
            trace_state := nullif(current_setting('porter.tracestate', true), '');
            IF NOT coalesce(porter.trace_context_valid(trace_parent, trace_state), false) THEN
                trace_parent := NULL;
                trace_state := NULL;
            END IF;
        END IF;
    ELSIF NOT coalesce(porter.trace_context_valid(trace_parent, trace_state), false) THEN
        PERFORM porter.check_trace_context(trace_parent, trace_state, 'porter.enqueue_batch');
    END IF;
    -- Each row: an id from the jobs' sequence, in the array's order, and its arguments
    -- checked (an object within max_args_bytes; check_enqueue raises the error for one that is
    -- not). The INSERT writes every row or, on any error, none; jobs_claim_idx and jobs_pkey
    -- take its entries.
    RETURN QUERY
    WITH input AS MATERIALIZED (
        SELECT e.ord, e.a,
               nextval(id_sequence) AS new_id,
               CASE WHEN jsonb_typeof(e.a) = 'object' AND pg_column_size(e.a) <= limits.max_args_bytes
                    THEN true
                    ELSE porter.check_enqueue(enqueue_batch.method, e.a, enqueue_batch.queue, NULL, false,
                                              enqueue_batch.timeout, enqueue_batch.max_attempts, enqueue_batch.run_at) END AS valid
        FROM jsonb_array_elements(enqueue_batch.args) WITH ORDINALITY AS e(a, ord)
    ), inserted AS (
        INSERT INTO porter.jobs AS j
            (id, method, queue, args, status, priority, at_front, max_attempts, timeout, run_at, limit_key,
             traceparent, tracestate)
        SELECT i.new_id, enqueue_batch.method, enqueue_batch.queue, i.a,
               CASE WHEN start_at > now() THEN 'scheduled' ELSE 'queued' END,
               coalesce(enqueue_batch.priority, 0), coalesce(enqueue_batch.at_front, false), enqueue_batch.max_attempts,
               enqueue_batch.timeout, start_at, enqueue_batch.limit_key, trace_parent, trace_state
        FROM input i
        WHERE i.valid
        ORDER BY i.ord
        RETURNING j.id
    )
    -- Every row is inserted or the statement fails (no ON CONFLICT here), and a data-modifying
    -- WITH runs to completion whether or not it is read: the ids are the input's. (Joining
    -- them to RETURNING made a nested loop of the two CTEs, a million comparisons a batch.)
    SELECT i.ord, i.new_id
    FROM input i
    ORDER BY i.ord;
END
$$;


--
-- Name: enqueue_debounced(text, jsonb, text, text, boolean, boolean, integer, timestamp with time zone, integer, integer, bigint[], text, interval, interval, text, text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.enqueue_debounced(method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean, timeout integer, run_at timestamp with time zone, priority integer, max_attempts integer, depends_on bigint[], limit_key text, debounce interval, debounce_max interval, traceparent text, tracestate text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    new_id bigint;
    due timestamptz;
    parents record;
    waiting boolean := false;
    dead_parent bigint;
    dead_status text;
    dead_method text;
BEGIN
    IF enqueue_debounced.debounce IS NULL THEN
        RAISE EXCEPTION 'porter.enqueue: debounce_max needs debounce'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'debounce',
                  HINT = 'e.g. debounce => interval ''5 seconds'', debounce_max => interval ''1 minute''';
    END IF;
    IF enqueue_debounced.job_id IS NULL THEN
        RAISE EXCEPTION 'porter.enqueue: debounce requires a job_id'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'job_id',
                  HINT = 'pass job_id => ''...'' naming the work whose enqueues are merged, e.g. ''reindex:42''';
    END IF;
    IF enqueue_debounced.debounce <= interval '0' THEN
        RAISE EXCEPTION 'porter.enqueue: debounce must be a positive interval, got %', enqueue_debounced.debounce
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'debounce',
                  HINT = 'e.g. debounce => interval ''5 seconds''';
    END IF;
    IF enqueue_debounced.debounce > interval '36525 days' OR enqueue_debounced.debounce_max > interval '36525 days' THEN
        RAISE EXCEPTION 'porter.enqueue: debounce and debounce_max are at most 100 years, got % and %',
                enqueue_debounced.debounce, coalesce(enqueue_debounced.debounce_max::text, 'none')
            USING ERRCODE = 'invalid_parameter_value',
                  COLUMN = CASE WHEN enqueue_debounced.debounce > interval '36525 days' THEN 'debounce' ELSE 'debounce_max' END,
                  HINT = 'as run_at, a job is delayed by at most 100 years (36525 days)';
    END IF;
    IF enqueue_debounced.debounce_max < enqueue_debounced.debounce THEN
        RAISE EXCEPTION 'porter.enqueue: debounce_max (%) is below debounce (%)', enqueue_debounced.debounce_max, enqueue_debounced.debounce
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'debounce_max',
                  HINT = 'debounce_max caps how long enqueues may keep delaying the job: at least debounce';
    END IF;
    FOR attempt IN 1..2 LOOP
        -- A waiting job with this job_id: its arguments, and run_at now + debounce, never past
        -- its first enqueue + debounce_max.
        UPDATE porter.jobs AS j
        SET args = coalesce(enqueue_debounced.args, '{}'),
            run_at = d.delayed_to,
            status = CASE WHEN j.status = 'deferred' THEN 'deferred'
                          WHEN d.delayed_to > now() THEN 'scheduled' ELSE 'queued' END
        FROM (SELECT CASE WHEN enqueue_debounced.debounce_max IS NULL THEN now() + enqueue_debounced.debounce
                          ELSE least(now() + enqueue_debounced.debounce, w.enqueued_at + enqueue_debounced.debounce_max) END AS delayed_to,
                     w.id
              FROM porter.jobs w WHERE w.job_id = enqueue_debounced.job_id AND w.status IN ('queued', 'scheduled', 'deferred')) AS d
        WHERE j.id = d.id AND j.job_id = enqueue_debounced.job_id AND j.status IN ('queued', 'scheduled', 'deferred')
        RETURNING j.id INTO new_id;
        IF new_id IS NOT NULL THEN
            RETURN new_id;
        END IF;
        IF attempt = 1 THEN
            IF cardinality(enqueue_debounced.depends_on) > 0 THEN
                parents := porter.lock_parents(enqueue_debounced.depends_on);
                waiting := parents.waiting;
                dead_parent := parents.dead_parent;
                dead_status := parents.dead_status;
                dead_method := parents.dead_method;
            END IF;
            due := coalesce(enqueue_debounced.run_at, now() + enqueue_debounced.debounce);
            INSERT INTO porter.jobs AS j
                (job_id, method, queue, args, status, priority, at_front, max_attempts, timeout, run_at,
                 depends_on, ended_at, error, limit_key, debounced, traceparent, tracestate)
            VALUES (enqueue_debounced.job_id, enqueue_debounced.method, enqueue_debounced.queue, coalesce(enqueue_debounced.args, '{}'),
                    CASE WHEN dead_parent IS NOT NULL THEN 'canceled'
                         WHEN waiting THEN 'deferred'
                         WHEN due > now() THEN 'scheduled' ELSE 'queued' END,
                    coalesce(enqueue_debounced.priority, 0), coalesce(enqueue_debounced.at_front, false),
                    enqueue_debounced.max_attempts, enqueue_debounced.timeout, due, nullif(enqueue_debounced.depends_on, '{}'),
                    CASE WHEN dead_parent IS NOT NULL THEN now() END,
                    CASE WHEN dead_parent IS NOT NULL THEN porter.dependency_error(dead_parent, dead_method, dead_status) END,
                    enqueue_debounced.limit_key, true, enqueue_debounced.traceparent, enqueue_debounced.tracestate)
            ON CONFLICT (job_id) WHERE job_id IS NOT NULL AND status IN ('queued', 'scheduled', 'started', 'deferred') AND NOT (status = 'started' AND debounced) DO NOTHING
            RETURNING j.id INTO new_id;
            IF new_id IS NOT NULL THEN
                RETURN new_id;
            END IF;
        END IF;
    END LOOP;
    -- The job_id is held by a started job enqueued without debounce.
    IF NOT coalesce(enqueue_debounced.deduplicate, false) THEN
        PERFORM porter.raise_duplicate_job_id(enqueue_debounced.job_id);
    END IF;
    RETURN NULL;
END
$$;


--
-- Name: enqueue_doc(text, text, text, jsonb, text, text, boolean, boolean, integer, timestamp with time zone, integer, integer, bigint[], text, interval, interval, text, text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.enqueue_doc(doctype text, name text, method text, args jsonb DEFAULT '{}'::jsonb, queue text DEFAULT 'default'::text, job_id text DEFAULT NULL::text, deduplicate boolean DEFAULT false, at_front boolean DEFAULT false, timeout integer DEFAULT NULL::integer, run_at timestamp with time zone DEFAULT NULL::timestamp with time zone, priority integer DEFAULT 0, max_attempts integer DEFAULT NULL::integer, depends_on bigint[] DEFAULT NULL::bigint[], limit_key text DEFAULT NULL::text, debounce interval DEFAULT NULL::interval, debounce_max interval DEFAULT NULL::interval, traceparent text DEFAULT NULL::text, tracestate text DEFAULT NULL::text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF doctype IS NULL OR btrim(doctype) = '' THEN
        RAISE EXCEPTION 'porter.enqueue_doc: doctype must be a non-empty name'
            USING ERRCODE = CASE WHEN doctype IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END,
                  COLUMN = 'doctype', HINT = 'pass the registered document type, e.g. doctype => ''Outlet''';
    END IF;
    IF name IS NULL OR name = '' THEN
        RAISE EXCEPTION 'porter.enqueue_doc: name must be the document''s name'
            USING ERRCODE = CASE WHEN name IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END,
                  COLUMN = 'name', HINT = 'pass the name of the record to load, e.g. name => ''OUT-0001''';
    END IF;
    IF method IS NULL OR btrim(method) = '' THEN
        RAISE EXCEPTION 'porter.enqueue_doc: method must name a method of the document type'
            USING ERRCODE = CASE WHEN method IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END,
                  COLUMN = 'method', HINT = 'e.g. method => ''sync_stock''';
    END IF;
    IF args IS NOT NULL AND jsonb_typeof(args) <> 'object' THEN
        RAISE EXCEPTION 'porter.enqueue_doc: args must be a JSON object, got a JSON %', jsonb_typeof(args)
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'args',
                  HINT = 'the method''s keyword arguments, e.g. {"force": true}';
    END IF;
    RETURN porter.enqueue(
        method => 'porter.run_doc_method',
        args => jsonb_build_object('doctype', doctype, 'name', name, 'doc_method', method,
                                   'kwargs', coalesce(args, '{}')),
        queue => queue, job_id => job_id, deduplicate => deduplicate, at_front => at_front,
        timeout => timeout, run_at => run_at, priority => priority, max_attempts => max_attempts,
        depends_on => depends_on, limit_key => limit_key, debounce => debounce, debounce_max => debounce_max,
        traceparent => traceparent, tracestate => tracestate);
END
$$;


--
-- Name: enqueue_many(jsonb); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.enqueue_many(jobs jsonb) RETURNS TABLE(ord bigint, id bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
#variable_conflict use_column
DECLARE
    limits porter.settings := porter.effective_settings();
    bad_key text;
    bad_parent text;
    bad_state text;
    ambient_parent text := nullif(current_setting('porter.traceparent', true), '');
    ambient_state text;
    -- Looked up once (migration 0033): as nextval's argument it ran once per row.
    id_sequence regclass := pg_get_serial_sequence('porter.jobs', 'id')::regclass;
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
    IF jsonb_path_exists(jobs, '$[*].traceparent') OR jsonb_path_exists(jobs, '$[*].tracestate') THEN
        SELECT x.traceparent, x.tracestate INTO bad_parent, bad_state
        FROM jsonb_array_elements(jobs) AS e(spec)
        CROSS JOIN LATERAL jsonb_to_record(e.spec) AS x(traceparent text, tracestate text)
        WHERE NOT coalesce(porter.trace_context_valid(x.traceparent, x.tracestate), false)
        LIMIT 1;
        IF FOUND THEN
            PERFORM porter.check_trace_context(bad_parent, bad_state, 'porter.enqueue_many');
        END IF;
    END IF;
    IF ambient_parent IS NOT NULL THEN
        ambient_state := nullif(current_setting('porter.tracestate', true), '');
        IF NOT coalesce(porter.trace_context_valid(ambient_parent, ambient_state), false) THEN
            ambient_parent := NULL;
            ambient_state := NULL;
        END IF;
    END IF;
    IF NOT jsonb_path_exists(jobs, '$[*].depends_on[*]') AND NOT jsonb_path_exists(jobs, '$[*].debounce')
       AND NOT jsonb_path_exists(jobs, '$[*].debounce_max') THEN
        RETURN QUERY
        WITH spec AS (
            SELECT e.ord, x.method, x.args, x.job_id, x.deduplicate, x.at_front, x.timeout,
                   x.priority, x.max_attempts, x.limit_key,
                   -- A missing queue key means 'default'; an explicit null is refused.
                   CASE WHEN e.spec ? 'queue' THEN x.queue ELSE 'default' END AS queue,
                   coalesce(x.run_at, now() + make_interval(secs => coalesce(x.delay, 0))) AS effective_run_at,
                   CASE WHEN x.traceparent IS NULL THEN ambient_parent ELSE x.traceparent END AS traceparent,
                   CASE WHEN x.traceparent IS NULL THEN ambient_state ELSE x.tracestate END AS tracestate
            FROM jsonb_array_elements(jobs) WITH ORDINALITY AS e(spec, ord)
            CROSS JOIN LATERAL jsonb_to_record(e.spec) AS x(
                method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean,
                timeout integer, run_at timestamptz, delay double precision, priority integer, max_attempts integer,
                limit_key text, traceparent text, tracestate text)
        ), input AS MATERIALIZED (
            SELECT s.*,
                   nextval(id_sequence) AS new_id,
                   CASE WHEN porter.enqueue_valid(s.method, s.args, s.queue, s.job_id, s.deduplicate, s.timeout,
                                                  s.max_attempts, s.effective_run_at, limits)
                        THEN true
                        ELSE porter.check_enqueue(s.method, s.args, s.queue, s.job_id, s.deduplicate, s.timeout,
                                                  s.max_attempts, s.effective_run_at) END AS valid
            FROM spec s
        ), inserted AS (
            INSERT INTO porter.jobs AS j
                (id, job_id, method, queue, args, status, priority, at_front, max_attempts, timeout, run_at, limit_key,
                 traceparent, tracestate)
            SELECT i.new_id, i.job_id, i.method, i.queue, coalesce(i.args, '{}'),
                   CASE WHEN i.effective_run_at > now() THEN 'scheduled' ELSE 'queued' END,
                   coalesce(i.priority, 0), coalesce(i.at_front, false), i.max_attempts, i.timeout,
                   i.effective_run_at, i.limit_key, i.traceparent, i.tracestate
            FROM input i
            ORDER BY i.ord
            ON CONFLICT (job_id) WHERE job_id IS NOT NULL AND status IN ('queued', 'scheduled', 'started', 'deferred') AND NOT (status = 'started' AND debounced) DO NOTHING
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
                          x.priority, x.max_attempts, x.depends_on, x.limit_key,
                          make_interval(secs => x.debounce), make_interval(secs => x.debounce_max),
                          x.traceparent, x.tracestate)
    FROM jsonb_array_elements(jobs) WITH ORDINALITY AS e(spec, ord)
    CROSS JOIN LATERAL jsonb_to_record(e.spec) AS x(
        method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean,
        timeout integer, run_at timestamptz, delay double precision, priority integer, max_attempts integer,
        depends_on bigint[], limit_key text, debounce double precision, debounce_max double precision,
        traceparent text, tracestate text)
    ORDER BY e.ord;
END
$_$;


--
-- Name: enqueue_row_event(); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.enqueue_row_event() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    method text := TG_ARGV[0];
    queue text := coalesce(TG_ARGV[1], 'default');
    args jsonb;
BEGIN
    IF TG_LEVEL <> 'ROW' OR TG_WHEN <> 'AFTER' OR TG_OP NOT IN ('INSERT', 'UPDATE', 'DELETE') THEN
        RAISE EXCEPTION 'porter.enqueue_row_event: trigger % on % must be AFTER INSERT, UPDATE or DELETE ... FOR EACH ROW', TG_NAME, TG_TABLE_NAME
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'CREATE TRIGGER ... AFTER INSERT OR UPDATE OR DELETE ON t FOR EACH ROW EXECUTE FUNCTION porter.enqueue_row_event(''app.method'', ''short'')';
    END IF;
    IF TG_NARGS < 1 OR btrim(method) = '' THEN
        RAISE EXCEPTION 'porter.enqueue_row_event: trigger % on % names no method', TG_NAME, TG_TABLE_NAME
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'method',
                  HINT = 'pass the method as the first trigger argument: EXECUTE FUNCTION porter.enqueue_row_event(''app.method'', ''short'')';
    END IF;
    args := jsonb_build_object(
        'event', CASE TG_OP WHEN 'INSERT' THEN 'after_insert' WHEN 'UPDATE' THEN 'on_update' ELSE 'on_trash' END,
        'table', format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME),
        'row', to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END));
    IF TG_OP = 'UPDATE' THEN
        args := args || jsonb_build_object('old', to_jsonb(OLD));
    END IF;
    PERFORM porter.enqueue(method => method, args => args, queue => queue);
    RETURN NULL;
END
$$;


--
-- Name: enqueue_valid(text, jsonb, text, text, boolean, integer, integer, timestamp with time zone, porter.settings); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.enqueue_valid(method text, args jsonb, queue text, job_id text, deduplicate boolean, timeout integer, max_attempts integer, run_at timestamp with time zone, limits porter.settings) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN ((method IS NOT NULL) AND (btrim(method) <> ''::text) AND (octet_length(method) <= (limits).max_method_bytes) AND ((args IS NULL) OR ((jsonb_typeof(args) = 'object'::text) AND (pg_column_size(args) <= (limits).max_args_bytes))) AND (queue IS NOT NULL) AND (btrim(queue) <> ''::text) AND (octet_length(queue) <= (limits).max_queue_bytes) AND ((job_id IS NULL) OR (octet_length(job_id) <= (limits).max_job_id_bytes)) AND ((timeout IS NULL) OR (timeout > 0)) AND ((max_attempts IS NULL) OR (max_attempts >= 1)) AND ((job_id IS NOT NULL) OR (NOT COALESCE(deduplicate, false))) AND ((run_at IS NULL) OR isfinite(run_at)));


--
-- Name: forget_limit_state(text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.forget_limit_state(queue text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM porter.queue_limits l WHERE l.queue = forget_limit_state.queue AND l.max_starts IS NOT NULL) THEN
        DELETE FROM porter.limit_starts s WHERE s.queue = forget_limit_state.queue;
    END IF;
    IF NOT EXISTS (SELECT FROM porter.queue_limits l WHERE l.queue = forget_limit_state.queue AND l.fair) THEN
        DELETE FROM porter.limit_turns t WHERE t.queue = forget_limit_state.queue;
    END IF;
END
$$;


--
-- Name: grant_enqueuer(text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.grant_enqueuer(role_name text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM porter.grant_privileges(role_name, 'enqueuer');
END
$$;


--
-- Name: grant_privileges(text, text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.grant_privileges(role_name text, kind text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    granted record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = grant_privileges.role_name) THEN
        RAISE EXCEPTION 'porter: role % does not exist', quote_ident(coalesce(role_name, 'NULL'))
            USING ERRCODE = 'undefined_object', COLUMN = 'role_name',
                  HINT = format('create it first, e.g. CREATE ROLE %I LOGIN', coalesce(role_name, 'app'));
    END IF;
    INSERT INTO porter.grantees (role_name, kind) VALUES (grant_privileges.role_name, grant_privileges.kind)
    ON CONFLICT ON CONSTRAINT grantees_pkey DO NOTHING;
    FOR granted IN SELECT p.privilege, p.object FROM porter.privileges p WHERE p.kind = grant_privileges.kind LOOP
        EXECUTE format('GRANT %s ON %s TO %I', granted.privilege, granted.object, role_name);
    END LOOP;
END
$$;


--
-- Name: grant_reader(text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.grant_reader(role_name text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM porter.grant_privileges(role_name, 'reader');
END
$$;


--
-- Name: grant_worker(text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.grant_worker(role_name text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM porter.grant_privileges(role_name, 'worker');
END
$$;


--
-- Name: job_event_payload_long(bigint, text, text, text, integer, text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.job_event_payload_long(job bigint, status text, method text, queue text, attempt integer, error text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    message jsonb := jsonb_build_object('status', status, 'method', method, 'queue', queue, 'attempt', attempt,
                                        'error', porter.left_bytes(error, 4000));
    payload text := format('{"job": %s, "event": %s, "message": %s}', job, to_json(status), message::text);
    ref bigint;
BEGIN
    IF octet_length(payload) <= 7900 THEN
        RETURN payload;
    END IF;
    INSERT INTO porter.realtime_messages (event, job, message) VALUES (status, job, message) RETURNING id INTO ref;
    RETURN jsonb_build_object('event', status, 'job', job, 'ref', ref)::text;
END
$$;


--
-- Name: job_event_payload(bigint, text, text, text, integer, text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.job_event_payload(job bigint, status text, method text, queue text, attempt integer, error text) RETURNS text
    LANGUAGE sql
    RETURN CASE WHEN (((octet_length(method) + octet_length(queue)) + COALESCE(octet_length(error), 0)) <= 1200) THEN format('{"job": %s, "event": %s, "message": {"error": %s, "queue": %s, "method": %s, "status": %s, "attempt": %s}}'::text, job, to_json(status), COALESCE((to_json(error))::text, 'null'::text), to_json(queue), to_json(method), to_json(status), attempt) ELSE porter.job_event_payload_long(job, status, method, queue, attempt, error) END;


--
-- Name: job_status_changed(); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.job_status_changed() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


--
-- Name: left_bytes(text, integer); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.left_bytes(value text, max_bytes integer) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    keep integer;
    excess integer;
BEGIN
    IF octet_length(value) <= max_bytes THEN
        RETURN value;
    END IF;
    IF max_bytes <= 0 THEN
        RETURN '';
    END IF;
    keep := least(length(value), max_bytes);
    LOOP
        excess := octet_length(left(value, keep)) - max_bytes;
        EXIT WHEN excess <= 0;
        keep := keep - greatest(1, (excess + 3) / 4);
    END LOOP;
    RETURN left(value, keep);
END
$$;


--
-- Name: limit_stats(); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.limit_stats() RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    AS $$
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


--
-- Name: lock_parents(bigint[]); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.lock_parents(parents bigint[], OUT waiting boolean, OUT dead_parent bigint, OUT dead_status text, OUT dead_method text) RETURNS record
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    missing bigint;
BEGIN
    waiting := false;
    IF parents IS NULL OR cardinality(parents) = 0 THEN
        RETURN;
    END IF;
    IF array_position(parents, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'porter.enqueue: depends_on must not contain NULL'
            USING ERRCODE = 'null_value_not_allowed', COLUMN = 'depends_on';
    END IF;
    -- Locked in id order, so concurrent enqueues never deadlock on each other.
    PERFORM 1 FROM porter.jobs j WHERE j.id = ANY(parents) ORDER BY j.id FOR SHARE;
    SELECT p INTO missing FROM unnest(parents) AS p
    WHERE NOT EXISTS (SELECT 1 FROM porter.jobs j WHERE j.id = p) LIMIT 1;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'porter.enqueue: depends_on names job %, which does not exist', missing
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'depends_on',
                  HINT = 'enqueue the parent first and pass the id porter.enqueue returned; ended jobs are pruned after their retention';
    END IF;
    SELECT j.id, j.status, j.method INTO dead_parent, dead_status, dead_method FROM porter.jobs j
    WHERE j.id = ANY(parents) AND j.status IN ('failed', 'canceled') ORDER BY j.id LIMIT 1;
    waiting := EXISTS (SELECT 1 FROM porter.jobs j WHERE j.id = ANY(parents) AND j.status <> 'finished');
END
$$;


--
-- Name: may_act_on_job(bigint); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.may_act_on_job(job bigint) RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    RETURN job IS NULL
        OR pg_has_role(session_user, (SELECT n.nspowner FROM pg_namespace n WHERE n.nspname = 'porter'), 'MEMBER')
        OR EXISTS (SELECT 1 FROM porter.grantees g JOIN pg_roles r ON r.rolname = g.role_name
                   WHERE g.kind = 'worker' AND pg_has_role(session_user, r.oid, 'MEMBER'))
        OR EXISTS (SELECT 1 FROM porter.jobs j WHERE j.id = may_act_on_job.job AND j.enqueued_by = session_user);
END
$$;


--
-- Name: notify_enqueued(); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.notify_enqueued() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM pg_notify('porter_enqueue', queue) FROM (SELECT DISTINCT queue FROM inserted) AS queues;
    RETURN NULL;
END
$$;


--
-- Name: pause_queue(text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.pause_queue(queue text) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    changed integer;
BEGIN
    PERFORM porter.check_queue_name(pause_queue.queue, 'porter.pause_queue');
    INSERT INTO porter.paused_queues AS p (queue) VALUES (pause_queue.queue) ON CONFLICT ON CONSTRAINT paused_queues_pkey DO NOTHING;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed > 0 THEN
        PERFORM porter.publish_realtime('queue_paused', jsonb_build_object('queue', pause_queue.queue), NULL);
    END IF;
    RETURN changed > 0;
END
$$;


--
-- Name: publish_job_progress(bigint, numeric, text, text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.publish_job_progress(job bigint, percent numeric, title text DEFAULT NULL::text, description text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    new_progress jsonb := jsonb_build_object('percent', percent, 'title', title, 'description', description);
BEGIN
    IF percent IS NULL OR percent < 0 OR percent > 100 THEN
        RAISE EXCEPTION 'porter.publish_progress: percent must be between 0 and 100, got %', percent
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'percent';
    END IF;
    IF publish_job_progress.job = porter.current_job_id() AND current_setting('porter.relay_progress', true) = 'on' THEN
        RAISE NOTICE 'porter.progress' USING DETAIL = new_progress::text;
        RETURN;
    END IF;
    IF NOT porter.may_act_on_job(publish_job_progress.job) THEN
        RAISE EXCEPTION 'porter.publish_progress: job % was not enqueued by role %', job, session_user
            USING ERRCODE = 'insufficient_privilege', COLUMN = 'job',
                  HINT = 'an enqueuer reports progress only for the jobs it enqueued; workers and the schema''s owner for any job';
    END IF;
    UPDATE porter.jobs SET progress = new_progress WHERE id = publish_job_progress.job;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'porter.publish_progress: no job has id %', job
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'job';
    END IF;
    PERFORM porter.publish_realtime('progress', new_progress, job);
END
$$;


--
-- Name: publish_progress(numeric, text, text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.publish_progress(percent numeric, title text DEFAULT NULL::text, description text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF porter.current_job_id() IS NULL THEN
        RAISE EXCEPTION 'porter.publish_progress: not inside a Porter job'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'call it from an sql: job, or use porter.publish_job_progress(job, percent, ...)';
    END IF;
    PERFORM porter.publish_job_progress(porter.current_job_id(), percent, title, description);
END
$$;


--
-- Name: publish_realtime(text, jsonb, bigint); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.publish_realtime(event text, message jsonb DEFAULT '{}'::jsonb, job bigint DEFAULT porter.current_job_id()) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    limits porter.settings := porter.effective_settings();
    payload text;
    ref bigint;
    stored bigint;
BEGIN
    IF event IS NULL OR btrim(event) = '' THEN
        RAISE EXCEPTION 'porter.publish_realtime: event must be a non-empty name'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'event', HINT = 'e.g. event => ''stock_sync_done''';
    END IF;
    IF octet_length(event) > limits.max_event_bytes THEN
        RAISE EXCEPTION 'porter.publish_realtime: event is % bytes, over the limit of % bytes', octet_length(event), limits.max_event_bytes
            USING ERRCODE = 'program_limit_exceeded', COLUMN = 'event',
                  HINT = 'use a shorter event name; the schema''s owner may raise the limit with SELECT porter.set_limit(''max_event_bytes'', n)';
    END IF;
    IF event IN ('started', 'finished', 'failed', 'canceled', 'queued', 'scheduled', 'deferred') THEN
        RAISE EXCEPTION 'porter.publish_realtime: % is a job state event, which only Porter sends', quote_literal(event)
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'event',
                  HINT = 'name the event after what happened, e.g. ''stock_sync_done''; a job''s status changes send their own events';
    END IF;
    IF pg_column_size(message) > limits.max_message_bytes THEN
        RAISE EXCEPTION 'porter.publish_realtime: message is % bytes, over the limit of % bytes', pg_column_size(message), limits.max_message_bytes
            USING ERRCODE = 'program_limit_exceeded', COLUMN = 'message',
                  HINT = 'store large data in a table and publish its key; the schema''s owner may raise the limit with SELECT porter.set_limit(''max_message_bytes'', n)';
    END IF;
    IF NOT porter.may_act_on_job(job) THEN
        RAISE EXCEPTION 'porter.publish_realtime: job % was not enqueued by role %', job, session_user
            USING ERRCODE = 'insufficient_privilege', COLUMN = 'job',
                  HINT = 'an enqueuer publishes only about the jobs it enqueued; workers and the schema''s owner publish about any job';
    END IF;
    payload := jsonb_build_object('event', event, 'job', job, 'message', coalesce(message, '{}'))::text;
    IF octet_length(payload) > 7900 THEN
        -- Counts at most the cap: served by realtime_messages_pkey.
        SELECT count(*) INTO stored FROM (SELECT 1 FROM porter.realtime_messages LIMIT limits.max_stored_messages) AS kept;
        IF stored >= limits.max_stored_messages THEN
            RAISE EXCEPTION 'porter.publish_realtime: % messages too large for NOTIFY are stored, the limit', stored
                USING ERRCODE = 'program_limit_exceeded', COLUMN = 'message',
                      HINT = 'stored messages are kept for a day; publish smaller ones (up to about 7,900 bytes are not stored), or the schema''s owner may raise the limit with SELECT porter.set_limit(''max_stored_messages'', n)';
        END IF;
        INSERT INTO porter.realtime_messages (event, job, message)
        VALUES (event, job, coalesce(message, '{}')) RETURNING id INTO ref;
        payload := jsonb_build_object('event', event, 'job', job, 'ref', ref)::text;
    END IF;
    PERFORM pg_notify('porter_realtime', payload);
END
$$;


--
-- Name: queue_is_paused(text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.queue_is_paused(queue text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT EXISTS (SELECT 1 FROM porter.paused_queues p WHERE p.queue = queue_is_paused.queue)
$$;


--
-- Name: queue_stats(); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.queue_stats() RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    SET max_parallel_workers_per_gather TO '0'
    AS $$
    WITH waiting AS (
        -- One index-only pass over jobs_claim_idx.
        SELECT j.queue,
               count(*) FILTER (WHERE j.run_at <= now()) AS queued,
               count(*) FILTER (WHERE j.run_at > now()) AS scheduled,
               min(j.run_at) FILTER (WHERE j.run_at <= now()) AS oldest
        FROM porter.jobs j WHERE j.status IN ('queued', 'scheduled') GROUP BY j.queue
    ), started AS (
        -- jobs_started_worker_idx: at most one row per busy slot.
        SELECT j.queue, count(*) AS n FROM porter.jobs j WHERE j.status = 'started' GROUP BY j.queue
    ), deferred AS (
        -- jobs_deferred_idx.
        SELECT j.queue, count(*) AS n FROM porter.jobs j WHERE j.status = 'deferred' GROUP BY j.queue
    ), failed AS (
        -- jobs_failed_queue_idx.
        SELECT j.queue, count(*) FILTER (WHERE j.ended_at >= now() - interval '1 hour') AS last_hour, count(*) AS last_day
        FROM porter.jobs j WHERE j.status = 'failed' AND j.ended_at >= now() - interval '1 day' GROUP BY j.queue
    ), alive AS (
        SELECT w.queues, w.stats FROM porter.workers w
        WHERE w.heartbeat_at >= now() - make_interval(secs => coalesce((w.stats->>'rescue_after')::float8, 20))
    ), reported AS (
        SELECT q.key AS queue, q.value AS figures FROM alive a CROSS JOIN LATERAL jsonb_each(a.stats->'queues') AS q
    ), served AS (
        SELECT r.queue, sum((r.figures->>'slots')::bigint) AS slots, sum((r.figures->>'busy')::bigint) AS busy,
               sum((r.figures->>'finished')::bigint) AS finished
        FROM reported r GROUP BY r.queue
    ), buckets AS (
        SELECT r.queue, k.kind, b.key::integer AS bucket, sum(b.value::bigint) AS n
        FROM reported r
        CROSS JOIN (VALUES ('wait'), ('run')) AS k(kind)
        CROSS JOIN LATERAL jsonb_each_text(coalesce(r.figures->k.kind, '{}')) AS b
        GROUP BY r.queue, k.kind, b.key::integer
    ), percentiles AS (
        SELECT c.queue, c.kind,
               round(porter.stats_bucket_seconds(min(c.bucket) FILTER (WHERE c.below >= 0.50 * c.total))::numeric, 4) AS p50,
               round(porter.stats_bucket_seconds(min(c.bucket) FILTER (WHERE c.below >= 0.95 * c.total))::numeric, 4) AS p95
        FROM (SELECT b.queue, b.kind, b.bucket,
                     sum(b.n) OVER (PARTITION BY b.queue, b.kind ORDER BY b.bucket) AS below,
                     sum(b.n) OVER (PARTITION BY b.queue, b.kind) AS total
              FROM buckets b) AS c
        GROUP BY c.queue, c.kind
    ), names AS (
        SELECT queue FROM waiting
        UNION SELECT queue FROM started
        UNION SELECT queue FROM deferred
        UNION SELECT queue FROM failed
        UNION SELECT queue FROM porter.paused_queues
        UNION SELECT unnest(a.queues) FROM alive a
        UNION SELECT queue FROM served
    )
    SELECT jsonb_build_object(
        'queues', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                'queue', n.queue,
                'queued', coalesce(w.queued, 0),
                'scheduled', coalesce(w.scheduled, 0),
                'deferred', coalesce(d.n, 0),
                'started', coalesce(s.n, 0),
                'failed_last_hour', coalesce(f.last_hour, 0),
                'failed_last_day', coalesce(f.last_day, 0),
                'finished_per_minute', coalesce(v.finished, 0),
                'lag_seconds', coalesce(round(extract(epoch FROM now() - w.oldest), 3), 0),
                'wait_p50_seconds', pw.p50,
                'wait_p95_seconds', pw.p95,
                'run_p50_seconds', pr.p50,
                'run_p95_seconds', pr.p95,
                'paused', EXISTS (SELECT 1 FROM porter.paused_queues p WHERE p.queue = n.queue),
                'slots', coalesce(v.slots, 0),
                'slots_busy', coalesce(v.busy, 0)) ORDER BY n.queue)
            FROM names n
            LEFT JOIN waiting w ON w.queue = n.queue
            LEFT JOIN started s ON s.queue = n.queue
            LEFT JOIN deferred d ON d.queue = n.queue
            LEFT JOIN failed f ON f.queue = n.queue
            LEFT JOIN served v ON v.queue = n.queue
            LEFT JOIN percentiles pw ON pw.queue = n.queue AND pw.kind = 'wait'
            LEFT JOIN percentiles pr ON pr.queue = n.queue AND pr.kind = 'run'), '[]'::jsonb),
        'workers', (SELECT count(*) FROM alive),
        'slots_busy', coalesce((SELECT sum(busy) FROM served), 0),
        'slots', coalesce((SELECT sum(slots) FROM served), 0),
        'at', now())
$$;


--
-- Name: raise_duplicate_job_id(text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.raise_duplicate_job_id(job_id text) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    RAISE EXCEPTION 'porter.enqueue: job_id % is already queued or running', quote_literal(job_id)
        USING ERRCODE = 'unique_violation', CONSTRAINT = 'jobs_job_id_active_key', COLUMN = 'job_id',
              DETAIL = format('An active (queued, scheduled or started) job has job_id %s.', quote_literal(job_id)),
              HINT = 'pass deduplicate => true to skip enqueueing a duplicate, or wait until the active job ends';
END
$$;


--
-- Name: rate_room_in(text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.rate_room_in(queue text) RETURNS double precision
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
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


--
-- Name: refresh_grants(); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.refresh_grants() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    grantee record;
BEGIN
    DELETE FROM porter.grantees g WHERE NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = g.role_name);
    FOR grantee IN SELECT g.role_name, g.kind FROM porter.grantees g ORDER BY g.role_name, g.kind LOOP
        PERFORM porter.grant_privileges(grantee.role_name, grantee.kind);
    END LOOP;
END
$$;


--
-- Name: release_dependants_of(bigint[]); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.release_dependants_of(ended bigint[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    woken bigint;
BEGIN
    IF ended IS NULL OR cardinality(ended) = 0 THEN
        RETURN;
    END IF;
    -- Nothing is deferred: the common case costs one probe of jobs_deferred_idx.
    PERFORM 1 FROM porter.jobs WHERE status = 'deferred' LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM 1 FROM porter.jobs d WHERE d.status = 'deferred' AND d.depends_on && ended ORDER BY d.id FOR UPDATE;
    -- A parent failed or was canceled: cancel the dependant, naming the parent. This UPDATE
    -- fires the row trigger, which cancels the dependant's own dependants.
    UPDATE porter.jobs AS d
    SET status = 'canceled', ended_at = now(),
        error = porter.dependency_error(p.id, p.method, p.status),
        errors = d.errors || jsonb_build_array(jsonb_build_object(
            'attempt', d.attempts, 'error', porter.dependency_error(p.id, p.method, p.status), 'at', now()))
    FROM porter.jobs p
    WHERE d.status = 'deferred' AND d.depends_on && ended
      AND p.id = ANY(d.depends_on) AND p.status IN ('failed', 'canceled');
    -- Every parent finished: the dependant is queued (or scheduled, for a future run_at), and
    -- its queue's workers are woken as for an enqueue. A parent row that is gone was pruned
    -- after it ended, so it no longer holds anything back.
    WITH released AS (
        UPDATE porter.jobs AS d
        SET status = CASE WHEN d.run_at > now() THEN 'scheduled' ELSE 'queued' END
        WHERE d.status = 'deferred' AND d.depends_on && ended
          AND NOT EXISTS (SELECT 1 FROM porter.jobs p WHERE p.id = ANY(d.depends_on) AND p.status <> 'finished')
        RETURNING d.queue
    )
    SELECT count(pg_notify('porter_enqueue', q.queue)) INTO woken FROM (SELECT DISTINCT queue FROM released) AS q;
END
$$;


--
-- Name: release_inserted_dependant(); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.release_inserted_dependant() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    parents record;
BEGIN
    parents := porter.lock_parents(NEW.depends_on);
    IF parents.dead_parent IS NOT NULL THEN
        UPDATE porter.jobs AS d
        SET status = 'canceled', ended_at = now(),
            error = porter.dependency_error(parents.dead_parent, parents.dead_method, parents.dead_status),
            errors = d.errors || jsonb_build_array(jsonb_build_object(
                'attempt', d.attempts, 'at', now(),
                'error', porter.dependency_error(parents.dead_parent, parents.dead_method, parents.dead_status)))
        WHERE d.id = NEW.id AND d.status = 'deferred';
    ELSIF NOT parents.waiting THEN
        UPDATE porter.jobs AS d SET status = CASE WHEN d.run_at > now() THEN 'scheduled' ELSE 'queued' END
        WHERE d.id = NEW.id AND d.status = 'deferred';
        PERFORM pg_notify('porter_enqueue', NEW.queue);
    END IF;
    RETURN NULL;
END
$$;


--
-- Name: requeue_jobs(bigint[]); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.requeue_jobs(ids bigint[]) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    requeued bigint[];
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN 0;
    END IF;
    PERFORM 1 FROM porter.jobs j WHERE j.id = ANY(ids) ORDER BY j.id FOR UPDATE;
    PERFORM 1 FROM porter.jobs p
    WHERE p.id IN (SELECT unnest(j.depends_on) FROM porter.jobs j WHERE j.id = ANY(ids)) AND p.status <> 'finished'
    ORDER BY p.id FOR SHARE;
    WITH targets AS (
        SELECT j.id, EXISTS (SELECT 1 FROM porter.jobs p WHERE p.id = ANY(j.depends_on) AND p.status <> 'finished') AS waits
        FROM porter.jobs j
        WHERE j.id = ANY(ids) AND j.status IN ('failed', 'canceled')
          AND NOT EXISTS (SELECT 1 FROM porter.jobs p WHERE p.id = ANY(j.depends_on) AND p.status IN ('failed', 'canceled'))
    ), changed AS (
        UPDATE porter.jobs AS j
        SET status = CASE WHEN t.waits THEN 'deferred' ELSE 'queued' END, run_at = now(), ended_at = NULL,
            started_at = NULL, attempts = 0, orphaned = 0, worker_id = NULL, cancel_requested_at = NULL
        FROM targets t WHERE j.id = t.id
        RETURNING j.id, j.status, j.queue
    ), woken AS (
        SELECT count(pg_notify('porter_enqueue', q.queue)) AS n
        FROM (SELECT DISTINCT c.queue FROM changed c WHERE c.status = 'queued') AS q
    )
    SELECT array_agg(c.id) INTO requeued FROM changed c CROSS JOIN woken;
    IF requeued IS NULL THEN
        RETURN 0;
    END IF;
    -- Served by jobs_depends_on_idx, one probe per job of the chain.
    WITH RECURSIVE chain(id) AS (
        SELECT unnest(requeued)
      UNION
        SELECT d.id FROM porter.jobs d JOIN chain c ON d.depends_on @> ARRAY[c.id]
        WHERE d.status = 'canceled' AND starts_with(d.error, format('canceled: job %s (', c.id))
    )
    UPDATE porter.jobs AS j SET status = 'deferred', ended_at = NULL
    FROM chain WHERE j.id = chain.id AND j.id <> ALL(requeued);
    RETURN cardinality(requeued);
END
$$;


--
-- Name: resume_queue(text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.resume_queue(queue text) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    changed integer;
BEGIN
    PERFORM porter.check_queue_name(resume_queue.queue, 'porter.resume_queue');
    DELETE FROM porter.paused_queues p WHERE p.queue = resume_queue.queue;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed > 0 THEN
        PERFORM pg_notify('porter_enqueue', resume_queue.queue);
        PERFORM porter.publish_realtime('queue_resumed', jsonb_build_object('queue', resume_queue.queue), NULL);
    END IF;
    RETURN changed > 0;
END
$$;


--
-- Name: retry_jobs(text, text, timestamp with time zone, timestamp with time zone, text, integer); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.retry_jobs(queue text DEFAULT NULL::text, method text DEFAULT NULL::text, since timestamp with time zone DEFAULT NULL::timestamp with time zone, before timestamp with time zone DEFAULT NULL::timestamp with time zone, status text DEFAULT 'failed'::text, max_jobs integer DEFAULT 1000) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    picked bigint[];
BEGIN
    PERFORM porter.check_bulk('porter.retry_jobs', retry_jobs.status, ARRAY['failed', 'canceled'], retry_jobs.max_jobs);
    -- EXECUTE plans with the values, so the partial indexes on status serve it.
    EXECUTE $q$
        SELECT array_agg(c.id) FROM (
            SELECT j.id FROM porter.jobs j
            WHERE j.status = $1 AND ($2::text IS NULL OR j.queue = $2) AND ($3::text IS NULL OR j.method = $3)
              AND ($4::timestamptz IS NULL OR j.ended_at >= $4) AND j.ended_at < coalesce($5, now())
              AND (j.job_id IS NULL OR NOT EXISTS (
                    SELECT 1 FROM porter.jobs a
                    WHERE a.job_id = j.job_id AND a.status IN ('queued', 'scheduled', 'started', 'deferred')))
              AND (j.depends_on IS NULL OR NOT EXISTS (
                    SELECT 1 FROM porter.jobs p WHERE p.id = ANY(j.depends_on) AND p.status IN ('failed', 'canceled')))
            LIMIT $6
            FOR UPDATE OF j SKIP LOCKED) AS c
    $q$ INTO picked
    USING retry_jobs.status, retry_jobs.queue, retry_jobs.method, retry_jobs.since, retry_jobs.before, retry_jobs.max_jobs;
    -- Two picked jobs with one job_id cannot both be active: keep the newest.
    picked := ARRAY(
        SELECT DISTINCT ON (j.job_id, CASE WHEN j.job_id IS NULL THEN j.id END) j.id
        FROM porter.jobs j WHERE j.id = ANY(picked)
        ORDER BY j.job_id, CASE WHEN j.job_id IS NULL THEN j.id END, j.id DESC);
    RETURN porter.requeue_jobs(picked);
END
$_$;


--
-- Name: revoke_grants(text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.revoke_grants(role_name text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    granted record;
BEGIN
    FOR granted IN
        SELECT DISTINCT p.privilege, p.object FROM porter.privileges p JOIN porter.grantees g ON g.kind = p.kind
        WHERE g.role_name = revoke_grants.role_name
    LOOP
        -- Column lists are revoked as table privileges: REVOKE UPDATE takes every column's.
        EXECUTE format('REVOKE %s ON %s FROM %I', regexp_replace(granted.privilege, '\s*\(.*\)', ''), granted.object, role_name);
    END LOOP;
    DELETE FROM porter.grantees g WHERE g.role_name = revoke_grants.role_name;
END
$$;


--
-- Name: set_limit(text, integer); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.set_limit(name text, value integer) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET lock_timeout TO '5s'
    AS $_$
DECLARE
    measure text;
    constraint_name text;
    too_big bigint;
    lowest integer;
    highest integer;
BEGIN
    CASE name
        WHEN 'max_args_bytes' THEN measure := 'pg_column_size(args)';
        WHEN 'max_method_bytes' THEN measure := 'octet_length(method)';
        WHEN 'max_queue_bytes' THEN measure := 'octet_length(queue)';
        WHEN 'max_job_id_bytes' THEN measure := 'octet_length(job_id)';
        WHEN 'max_event_bytes', 'max_message_bytes', 'max_stored_messages' THEN measure := NULL;
        ELSE
            RAISE EXCEPTION 'porter.set_limit: no limit is named %', quote_literal(coalesce(name, 'NULL'))
                USING ERRCODE = 'invalid_parameter_value', COLUMN = 'name',
                      HINT = 'the limits are max_args_bytes, max_method_bytes, max_queue_bytes, max_job_id_bytes, max_event_bytes, max_message_bytes and max_stored_messages';
    END CASE;
    lowest := CASE WHEN name = 'max_stored_messages' THEN 0 ELSE 1 END;
    highest := CASE WHEN name IN ('max_args_bytes', 'max_message_bytes') THEN 268435455
                    WHEN name = 'max_stored_messages' THEN 1000000000 ELSE 1048576 END;
    IF value IS NULL OR value < lowest OR value > highest THEN
        RAISE EXCEPTION 'porter.set_limit: % cannot be %', name, coalesce(value::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'value',
                  HINT = 'bytes of args and messages: 1 to 268435455; bytes of names: 1 to 1048576; stored messages: 0 to 1000000000';
    END IF;
    IF measure IS NOT NULL THEN
        EXECUTE format('SELECT count(*) FROM porter.jobs WHERE status IN (''queued'', ''scheduled'', ''deferred'', ''started'') AND %s > %s',
                       measure, value) INTO too_big;
        IF too_big > 0 THEN
            RAISE EXCEPTION 'porter.set_limit: % waiting or running jobs are over % = %', too_big, name, value
                USING ERRCODE = 'invalid_parameter_value', COLUMN = 'value',
                      HINT = 'lower the limit once they have ended, or cancel them first';
        END IF;
        constraint_name := 'jobs_' || replace(replace(name, 'max_', ''), '_bytes', '') || '_within_limit';
        EXECUTE format('ALTER TABLE porter.jobs DROP CONSTRAINT IF EXISTS %I, ADD CONSTRAINT %I CHECK (%s <= %s) NOT VALID',
                       constraint_name, constraint_name, measure, value);
    END IF;
    EXECUTE format('UPDATE porter.settings SET %I = $1', name) USING value;
END
$_$;


--
-- Name: set_limit(text, text, boolean, integer, integer, interval, boolean); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.set_limit(queue text, limit_key text DEFAULT NULL::text, each_key boolean DEFAULT false, max_running integer DEFAULT NULL::integer, max_starts integer DEFAULT NULL::integer, per interval DEFAULT NULL::interval, fair boolean DEFAULT NULL::boolean) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


--
-- Name: stats(); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.stats() RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    AS $$
    SELECT porter.queue_stats() || jsonb_build_object('limits', porter.limit_stats())
$$;


--
-- Name: stats_bucket_seconds(integer); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.stats_bucket_seconds(bucket integer) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (0.0001 * power((2)::numeric, (((bucket)::numeric + 0.5) / 8.0)));


--
-- Name: trace_context_valid(text, text); Type: FUNCTION; Schema: porter; Owner: -
--

CREATE FUNCTION porter.trace_context_valid(traceparent text, tracestate text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (((traceparent IS NULL) AND (tracestate IS NULL)) OR ((traceparent ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$'::text) AND ("left"(traceparent, 2) <> 'ff'::text) AND (substr(traceparent, 4, 32) <> '00000000000000000000000000000000'::text) AND (substr(traceparent, 37, 16) <> '0000000000000000'::text) AND ((tracestate IS NULL) OR (octet_length(tracestate) <= 512))));


--
-- Name: grantees; Type: TABLE; Schema: porter; Owner: -
--

CREATE TABLE porter.grantees (
    role_name text NOT NULL,
    kind text NOT NULL,
    granted_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT grantees_kind_valid CHECK ((kind = ANY (ARRAY['enqueuer'::text, 'worker'::text, 'reader'::text])))
);


--
-- Name: TABLE grantees; Type: COMMENT; Schema: porter; Owner: -
--

COMMENT ON TABLE porter.grantees IS 'The roles porter.grant_enqueuer, grant_worker and grant_reader were given to.';


--
-- Name: jobs; Type: TABLE; Schema: porter; Owner: -
--

CREATE TABLE porter.jobs (
    id bigint NOT NULL,
    job_id text,
    method text NOT NULL,
    queue text DEFAULT 'default'::text NOT NULL,
    args jsonb DEFAULT '{}'::jsonb NOT NULL,
    status text DEFAULT 'queued'::text NOT NULL,
    priority integer DEFAULT 0 NOT NULL,
    at_front boolean DEFAULT false NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    max_attempts integer,
    timeout integer,
    run_at timestamp with time zone DEFAULT now() NOT NULL,
    enqueued_at timestamp with time zone DEFAULT now() NOT NULL,
    started_at timestamp with time zone,
    ended_at timestamp with time zone,
    progress jsonb,
    result jsonb,
    error text,
    errors jsonb DEFAULT '[]'::jsonb NOT NULL,
    worker_id text,
    orphaned integer DEFAULT 0 NOT NULL,
    cancel_requested_at timestamp with time zone,
    depends_on bigint[],
    enqueued_by text DEFAULT SESSION_USER,
    limit_key text,
    debounced boolean DEFAULT false NOT NULL,
    traceparent text,
    tracestate text,
    CONSTRAINT jobs_args_is_object CHECK ((jsonb_typeof(args) = 'object'::text)),
    CONSTRAINT jobs_args_within_limit CHECK ((pg_column_size(args) <= 1048576)),
    CONSTRAINT jobs_attempts_not_negative CHECK ((attempts >= 0)),
    CONSTRAINT jobs_deferred_has_parents CHECK (((status <> 'deferred'::text) OR (COALESCE(cardinality(depends_on), 0) > 0))),
    CONSTRAINT jobs_depends_on_no_nulls CHECK ((array_position(depends_on, NULL::bigint) IS NULL)),
    CONSTRAINT jobs_depends_on_not_self CHECK ((NOT (id = ANY (depends_on)))),
    CONSTRAINT jobs_ended_at_finite CHECK (isfinite(ended_at)),
    CONSTRAINT jobs_ended_at_when_ended CHECK (((status = ANY (ARRAY['finished'::text, 'failed'::text, 'canceled'::text])) = (ended_at IS NOT NULL))),
    CONSTRAINT jobs_errors_is_array CHECK ((jsonb_typeof(errors) = 'array'::text)),
    CONSTRAINT jobs_job_id_within_limit CHECK ((octet_length(job_id) <= 512)),
    CONSTRAINT jobs_max_attempts_positive CHECK ((max_attempts >= 1)),
    CONSTRAINT jobs_method_not_empty CHECK ((btrim(method) <> ''::text)),
    CONSTRAINT jobs_method_within_limit CHECK ((octet_length(method) <= 256)),
    CONSTRAINT jobs_orphaned_not_negative CHECK ((orphaned >= 0)),
    CONSTRAINT jobs_queue_not_empty CHECK ((btrim(queue) <> ''::text)),
    CONSTRAINT jobs_queue_within_limit CHECK ((octet_length(queue) <= 128)),
    CONSTRAINT jobs_run_at_finite CHECK (isfinite(run_at)),
    CONSTRAINT jobs_status_valid CHECK ((status = ANY (ARRAY['queued'::text, 'scheduled'::text, 'started'::text, 'finished'::text, 'failed'::text, 'canceled'::text, 'deferred'::text]))),
    CONSTRAINT jobs_timeout_positive CHECK ((timeout > 0)),
    CONSTRAINT jobs_traceparent_w3c CHECK (((traceparent ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$'::text) AND ("left"(traceparent, 2) <> 'ff'::text) AND (substr(traceparent, 4, 32) <> '00000000000000000000000000000000'::text) AND (substr(traceparent, 37, 16) <> '0000000000000000'::text))),
    CONSTRAINT jobs_tracestate_with_traceparent CHECK (((tracestate IS NULL) OR ((traceparent IS NOT NULL) AND (octet_length(tracestate) <= 512))))
);


--
-- Name: TABLE jobs; Type: COMMENT; Schema: porter; Owner: -
--

COMMENT ON TABLE porter.jobs IS 'Porter background jobs: one row per job (see README for the status words).';


--
-- Name: job_states; Type: VIEW; Schema: porter; Owner: -
--

CREATE VIEW porter.job_states AS
 SELECT jobs.id,
    jobs.job_id,
    jobs.method,
    jobs.queue,
    jobs.status,
    jobs.priority,
    jobs.at_front,
    jobs.attempts,
    jobs.max_attempts,
    jobs.timeout,
    jobs.run_at,
    jobs.enqueued_at,
    jobs.started_at,
    jobs.ended_at,
    jobs.progress,
    jobs.worker_id,
    jobs.orphaned,
    jobs.cancel_requested_at,
    jobs.depends_on,
    jobs.enqueued_by
   FROM porter.jobs;


--
-- Name: VIEW job_states; Type: COMMENT; Schema: porter; Owner: -
--

COMMENT ON VIEW porter.job_states IS 'Every job''s status, counts and timings, without args, result or errors.';


--
-- Name: jobs_id_seq; Type: SEQUENCE; Schema: porter; Owner: -
--

ALTER TABLE porter.jobs ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME porter.jobs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: limit_starts; Type: TABLE; Schema: porter; Owner: -
--

CREATE TABLE porter.limit_starts (
    queue text NOT NULL,
    limit_key text,
    started_at timestamp with time zone NOT NULL
);


--
-- Name: TABLE limit_starts; Type: COMMENT; Schema: porter; Owner: -
--

COMMENT ON TABLE porter.limit_starts IS 'Claim times of rate-limited queues, kept for the length of their longest window (porter.claim_limited).';


--
-- Name: limit_turns; Type: TABLE; Schema: porter; Owner: -
--

CREATE TABLE porter.limit_turns (
    queue text NOT NULL,
    last_key text
);


--
-- Name: TABLE limit_turns; Type: COMMENT; Schema: porter; Owner: -
--

COMMENT ON TABLE porter.limit_turns IS 'The last key each fair queue''s claim served, so the next claim starts after it.';


--
-- Name: queue_limits; Type: TABLE; Schema: porter; Owner: -
--

CREATE TABLE porter.queue_limits (
    queue text NOT NULL,
    limit_key text,
    each_key boolean DEFAULT false NOT NULL,
    max_running integer,
    max_starts integer,
    per interval,
    fair boolean DEFAULT false NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT queue_limits_fair_on_queue CHECK (((NOT fair) OR ((limit_key IS NULL) AND (NOT each_key)))),
    CONSTRAINT queue_limits_key_not_empty CHECK ((btrim(limit_key) <> ''::text)),
    CONSTRAINT queue_limits_limits_something CHECK (((max_running IS NOT NULL) OR (max_starts IS NOT NULL) OR fair)),
    CONSTRAINT queue_limits_max_running_positive CHECK ((max_running > 0)),
    CONSTRAINT queue_limits_max_starts_positive CHECK ((max_starts > 0)),
    CONSTRAINT queue_limits_one_scope CHECK ((NOT (each_key AND (limit_key IS NOT NULL)))),
    CONSTRAINT queue_limits_per_positive CHECK ((per > '00:00:00'::interval)),
    CONSTRAINT queue_limits_per_within_range CHECK ((per <= '36525 days'::interval)),
    CONSTRAINT queue_limits_starts_with_per CHECK (((max_starts IS NULL) = (per IS NULL)))
);


--
-- Name: TABLE queue_limits; Type: COMMENT; Schema: porter; Owner: -
--

COMMENT ON TABLE porter.queue_limits IS 'Flow-control limits, one row per scope; change them with porter.set_limit and porter.clear_limit, read them in porter.limits.';


--
-- Name: limits; Type: VIEW; Schema: porter; Owner: -
--

CREATE VIEW porter.limits AS
 SELECT l.queue,
    l.limit_key,
    l.each_key,
        CASE
            WHEN (l.limit_key IS NOT NULL) THEN 'key'::text
            WHEN l.each_key THEN 'each key'::text
            ELSE 'queue'::text
        END AS scope,
    l.max_running,
    l.max_starts,
    l.per,
    l.fair,
    l.updated_at
   FROM porter.queue_limits l;


--
-- Name: VIEW limits; Type: COMMENT; Schema: porter; Owner: -
--

COMMENT ON VIEW porter.limits IS 'Flow-control limits: per queue, per key of a queue, or for each key of a queue (see porter.set_limit).';


--
-- Name: my_jobs; Type: VIEW; Schema: porter; Owner: -
--

CREATE VIEW porter.my_jobs WITH (security_barrier='true') AS
 SELECT jobs.id,
    jobs.job_id,
    jobs.method,
    jobs.queue,
    jobs.args,
    jobs.status,
    jobs.priority,
    jobs.at_front,
    jobs.attempts,
    jobs.max_attempts,
    jobs.timeout,
    jobs.run_at,
    jobs.enqueued_at,
    jobs.started_at,
    jobs.ended_at,
    jobs.progress,
    jobs.result,
    jobs.error,
    jobs.errors,
    jobs.worker_id,
    jobs.orphaned,
    jobs.cancel_requested_at,
    jobs.depends_on,
    jobs.enqueued_by
   FROM porter.jobs
  WHERE (jobs.enqueued_by = SESSION_USER);


--
-- Name: VIEW my_jobs; Type: COMMENT; Schema: porter; Owner: -
--

COMMENT ON VIEW porter.my_jobs IS 'The jobs this session''s login role enqueued, with their args and results.';


--
-- Name: paused_queues; Type: TABLE; Schema: porter; Owner: -
--

CREATE TABLE porter.paused_queues (
    queue text NOT NULL,
    paused_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE paused_queues; Type: COMMENT; Schema: porter; Owner: -
--

COMMENT ON TABLE porter.paused_queues IS 'Queues whose jobs no worker claims until porter.resume_queue (see README, Pause and resume).';


--
-- Name: privileges; Type: TABLE; Schema: porter; Owner: -
--

CREATE TABLE porter.privileges (
    kind text NOT NULL,
    privilege text NOT NULL,
    object text NOT NULL,
    CONSTRAINT privileges_kind_valid CHECK ((kind = ANY (ARRAY['enqueuer'::text, 'worker'::text, 'reader'::text])))
);


--
-- Name: realtime_messages; Type: TABLE; Schema: porter; Owner: -
--

CREATE TABLE porter.realtime_messages (
    id bigint NOT NULL,
    event text NOT NULL,
    job bigint,
    message jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: realtime_messages_id_seq; Type: SEQUENCE; Schema: porter; Owner: -
--

ALTER TABLE porter.realtime_messages ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME porter.realtime_messages_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: schedule; Type: TABLE; Schema: porter; Owner: -
--

CREATE TABLE porter.schedule (
    event text NOT NULL,
    method text NOT NULL,
    queue text NOT NULL,
    last_fire_at timestamp with time zone,
    next_fire_at timestamp with time zone NOT NULL
);


--
-- Name: schedule_fires; Type: TABLE; Schema: porter; Owner: -
--

CREATE TABLE porter.schedule_fires (
    event text NOT NULL,
    method text NOT NULL,
    fire_at timestamp with time zone NOT NULL,
    job bigint,
    fired_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: schema_migrations; Type: TABLE; Schema: porter; Owner: -
--

CREATE TABLE porter.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: workers; Type: TABLE; Schema: porter; Owner: -
--

CREATE TABLE porter.workers (
    id text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    queues text[] NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    heartbeat_at timestamp with time zone DEFAULT now() NOT NULL,
    lock_key integer,
    session_lost_at timestamp with time zone,
    methods text[],
    stats jsonb DEFAULT '{}'::jsonb NOT NULL
);


--
-- Name: grantees grantees_pkey; Type: CONSTRAINT; Schema: porter; Owner: -
--

ALTER TABLE ONLY porter.grantees
    ADD CONSTRAINT grantees_pkey PRIMARY KEY (role_name, kind);


--
-- Name: jobs jobs_limit_key_not_empty; Type: CHECK CONSTRAINT; Schema: porter; Owner: -
--

ALTER TABLE porter.jobs
    ADD CONSTRAINT jobs_limit_key_not_empty CHECK ((btrim(limit_key) <> ''::text)) NOT VALID;


--
-- Name: jobs jobs_pkey; Type: CONSTRAINT; Schema: porter; Owner: -
--

ALTER TABLE ONLY porter.jobs
    ADD CONSTRAINT jobs_pkey PRIMARY KEY (id);


--
-- Name: limit_turns limit_turns_pkey; Type: CONSTRAINT; Schema: porter; Owner: -
--

ALTER TABLE ONLY porter.limit_turns
    ADD CONSTRAINT limit_turns_pkey PRIMARY KEY (queue);


--
-- Name: paused_queues paused_queues_pkey; Type: CONSTRAINT; Schema: porter; Owner: -
--

ALTER TABLE ONLY porter.paused_queues
    ADD CONSTRAINT paused_queues_pkey PRIMARY KEY (queue);


--
-- Name: privileges privileges_pkey; Type: CONSTRAINT; Schema: porter; Owner: -
--

ALTER TABLE ONLY porter.privileges
    ADD CONSTRAINT privileges_pkey PRIMARY KEY (kind, privilege, object);


--
-- Name: queue_limits queue_limits_scope_key; Type: CONSTRAINT; Schema: porter; Owner: -
--

ALTER TABLE ONLY porter.queue_limits
    ADD CONSTRAINT queue_limits_scope_key UNIQUE NULLS NOT DISTINCT (queue, limit_key, each_key);


--
-- Name: realtime_messages realtime_messages_pkey; Type: CONSTRAINT; Schema: porter; Owner: -
--

ALTER TABLE ONLY porter.realtime_messages
    ADD CONSTRAINT realtime_messages_pkey PRIMARY KEY (id);


--
-- Name: schedule_fires schedule_fires_pkey; Type: CONSTRAINT; Schema: porter; Owner: -
--

ALTER TABLE ONLY porter.schedule_fires
    ADD CONSTRAINT schedule_fires_pkey PRIMARY KEY (event, method, fire_at);


--
-- Name: schedule schedule_pkey; Type: CONSTRAINT; Schema: porter; Owner: -
--

ALTER TABLE ONLY porter.schedule
    ADD CONSTRAINT schedule_pkey PRIMARY KEY (event, method);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: porter; Owner: -
--

ALTER TABLE ONLY porter.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: settings settings_pkey; Type: CONSTRAINT; Schema: porter; Owner: -
--

ALTER TABLE ONLY porter.settings
    ADD CONSTRAINT settings_pkey PRIMARY KEY (singleton);


--
-- Name: workers workers_pkey; Type: CONSTRAINT; Schema: porter; Owner: -
--

ALTER TABLE ONLY porter.workers
    ADD CONSTRAINT workers_pkey PRIMARY KEY (id);


--
-- Name: jobs_claim_idx; Type: INDEX; Schema: porter; Owner: -
--

CREATE INDEX jobs_claim_idx ON porter.jobs USING btree (queue, at_front DESC, priority, run_at, id) WHERE (status = ANY (ARRAY['queued'::text, 'scheduled'::text]));


--
-- Name: jobs_deferred_depends_on_idx; Type: INDEX; Schema: porter; Owner: -
--

CREATE INDEX jobs_deferred_depends_on_idx ON porter.jobs USING gin (depends_on) WHERE (status = 'deferred'::text);


--
-- Name: jobs_deferred_idx; Type: INDEX; Schema: porter; Owner: -
--

CREATE INDEX jobs_deferred_idx ON porter.jobs USING btree (id) WHERE (status = 'deferred'::text);


--
-- Name: jobs_depends_on_idx; Type: INDEX; Schema: porter; Owner: -
--

CREATE INDEX jobs_depends_on_idx ON porter.jobs USING gin (depends_on) WHERE (depends_on IS NOT NULL);


--
-- Name: jobs_ended_at_idx; Type: INDEX; Schema: porter; Owner: -
--

CREATE INDEX jobs_ended_at_idx ON porter.jobs USING btree (status, ended_at) WHERE (status = ANY (ARRAY['finished'::text, 'failed'::text, 'canceled'::text]));


--
-- Name: jobs_failed_queue_idx; Type: INDEX; Schema: porter; Owner: -
--

CREATE INDEX jobs_failed_queue_idx ON porter.jobs USING btree (queue, ended_at) WHERE (status = 'failed'::text);


--
-- Name: jobs_job_id_active_key; Type: INDEX; Schema: porter; Owner: -
--

CREATE UNIQUE INDEX jobs_job_id_active_key ON porter.jobs USING btree (job_id) WHERE ((job_id IS NOT NULL) AND (status = ANY (ARRAY['queued'::text, 'scheduled'::text, 'started'::text, 'deferred'::text])) AND (NOT ((status = 'started'::text) AND debounced)));


--
-- Name: jobs_limit_claim_idx; Type: INDEX; Schema: porter; Owner: -
--

CREATE INDEX jobs_limit_claim_idx ON porter.jobs USING btree (queue, at_front DESC, priority, limit_key, run_at, id) WHERE ((status = ANY (ARRAY['queued'::text, 'scheduled'::text])) AND (limit_key IS NOT NULL));


--
-- Name: jobs_started_worker_idx; Type: INDEX; Schema: porter; Owner: -
--

CREATE INDEX jobs_started_worker_idx ON porter.jobs USING btree (worker_id) WHERE (status = 'started'::text);


--
-- Name: limit_starts_queue_key_idx; Type: INDEX; Schema: porter; Owner: -
--

CREATE INDEX limit_starts_queue_key_idx ON porter.limit_starts USING btree (queue, limit_key, started_at);


--
-- Name: realtime_messages_created_at_idx; Type: INDEX; Schema: porter; Owner: -
--

CREATE INDEX realtime_messages_created_at_idx ON porter.realtime_messages USING btree (created_at);


--
-- Name: schedule_fires_fired_at_idx; Type: INDEX; Schema: porter; Owner: -
--

CREATE INDEX schedule_fires_fired_at_idx ON porter.schedule_fires USING btree (fired_at);


--
-- Name: jobs jobs_notify_enqueued; Type: TRIGGER; Schema: porter; Owner: -
--

CREATE TRIGGER jobs_notify_enqueued AFTER INSERT ON porter.jobs REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION porter.notify_enqueued();


--
-- Name: jobs jobs_release_inserted_dependant; Type: TRIGGER; Schema: porter; Owner: -
--

CREATE TRIGGER jobs_release_inserted_dependant AFTER INSERT ON porter.jobs FOR EACH ROW WHEN ((new.status = 'deferred'::text)) EXECUTE FUNCTION porter.release_inserted_dependant();


--
-- Name: jobs jobs_status_changed; Type: TRIGGER; Schema: porter; Owner: -
--

CREATE TRIGGER jobs_status_changed AFTER UPDATE OF status ON porter.jobs FOR EACH ROW WHEN (((old.status IS DISTINCT FROM new.status) AND (current_setting('porter.worker_statement'::text, true) IS DISTINCT FROM 'on'::text))) EXECUTE FUNCTION porter.job_status_changed();


--
-- Name: FUNCTION cancel_jobs(queue text, method text, before timestamp with time zone, status text, max_jobs integer); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.cancel_jobs(queue text, method text, before timestamp with time zone, status text, max_jobs integer) FROM PUBLIC;


--
-- Name: FUNCTION check_bulk(caller text, status text, allowed text[], max_jobs integer); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.check_bulk(caller text, status text, allowed text[], max_jobs integer) FROM PUBLIC;


--
-- Name: FUNCTION check_enqueue(method text, args jsonb, queue text, job_id text, deduplicate boolean, timeout integer, max_attempts integer, run_at timestamp with time zone); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.check_enqueue(method text, args jsonb, queue text, job_id text, deduplicate boolean, timeout integer, max_attempts integer, run_at timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION check_limit_key(limit_key text, caller text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.check_limit_key(limit_key text, caller text) FROM PUBLIC;


--
-- Name: FUNCTION check_queue_name(queue text, caller text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.check_queue_name(queue text, caller text) FROM PUBLIC;


--
-- Name: FUNCTION check_trace_context(traceparent text, tracestate text, caller text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.check_trace_context(traceparent text, tracestate text, caller text) FROM PUBLIC;


--
-- Name: FUNCTION claim_limited(queue text, worker_id text, wanted integer, skip_methods text[], skip_documents text[]); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.claim_limited(queue text, worker_id text, wanted integer, skip_methods text[], skip_documents text[]) FROM PUBLIC;


--
-- Name: FUNCTION claim_queued(queue text, worker_id text, wanted integer, skip_methods text[], skip_documents text[]); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.claim_queued(queue text, worker_id text, wanted integer, skip_methods text[], skip_documents text[]) FROM PUBLIC;


--
-- Name: FUNCTION clear_limit(queue text, limit_key text, each_key boolean); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.clear_limit(queue text, limit_key text, each_key boolean) FROM PUBLIC;


--
-- Name: FUNCTION current_job_id(); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.current_job_id() FROM PUBLIC;


--
-- Name: FUNCTION delete_jobs(older_than interval, queue text, method text, status text, max_jobs integer); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.delete_jobs(older_than interval, queue text, method text, status text, max_jobs integer) FROM PUBLIC;


--
-- Name: FUNCTION dependency_error(parent bigint, parent_method text, parent_status text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.dependency_error(parent bigint, parent_method text, parent_status text) FROM PUBLIC;


--
-- Name: FUNCTION effective_settings(); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.effective_settings() FROM PUBLIC;


--
-- Name: FUNCTION end_attempts(worker_id text, started jsonb, outcomes jsonb, job_events boolean); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.end_attempts(worker_id text, started jsonb, outcomes jsonb, job_events boolean) FROM PUBLIC;


--
-- Name: FUNCTION enqueue(method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean, timeout integer, run_at timestamp with time zone, priority integer, max_attempts integer, depends_on bigint[], limit_key text, debounce interval, debounce_max interval, traceparent text, tracestate text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.enqueue(method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean, timeout integer, run_at timestamp with time zone, priority integer, max_attempts integer, depends_on bigint[], limit_key text, debounce interval, debounce_max interval, traceparent text, tracestate text) FROM PUBLIC;


--
-- Name: FUNCTION enqueue_batch(method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean, timeout integer, run_at timestamp with time zone, priority integer, max_attempts integer, depends_on bigint[], limit_key text, debounce interval, debounce_max interval, traceparent text, tracestate text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.enqueue_batch(method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean, timeout integer, run_at timestamp with time zone, priority integer, max_attempts integer, depends_on bigint[], limit_key text, debounce interval, debounce_max interval, traceparent text, tracestate text) FROM PUBLIC;


--
-- Name: FUNCTION enqueue_debounced(method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean, timeout integer, run_at timestamp with time zone, priority integer, max_attempts integer, depends_on bigint[], limit_key text, debounce interval, debounce_max interval, traceparent text, tracestate text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.enqueue_debounced(method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean, timeout integer, run_at timestamp with time zone, priority integer, max_attempts integer, depends_on bigint[], limit_key text, debounce interval, debounce_max interval, traceparent text, tracestate text) FROM PUBLIC;


--
-- Name: FUNCTION enqueue_doc(doctype text, name text, method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean, timeout integer, run_at timestamp with time zone, priority integer, max_attempts integer, depends_on bigint[], limit_key text, debounce interval, debounce_max interval, traceparent text, tracestate text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.enqueue_doc(doctype text, name text, method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean, timeout integer, run_at timestamp with time zone, priority integer, max_attempts integer, depends_on bigint[], limit_key text, debounce interval, debounce_max interval, traceparent text, tracestate text) FROM PUBLIC;


--
-- Name: FUNCTION enqueue_many(jobs jsonb); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.enqueue_many(jobs jsonb) FROM PUBLIC;


--
-- Name: FUNCTION enqueue_row_event(); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.enqueue_row_event() FROM PUBLIC;


--
-- Name: FUNCTION enqueue_valid(method text, args jsonb, queue text, job_id text, deduplicate boolean, timeout integer, max_attempts integer, run_at timestamp with time zone, limits porter.settings); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.enqueue_valid(method text, args jsonb, queue text, job_id text, deduplicate boolean, timeout integer, max_attempts integer, run_at timestamp with time zone, limits porter.settings) FROM PUBLIC;


--
-- Name: FUNCTION forget_limit_state(queue text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.forget_limit_state(queue text) FROM PUBLIC;


--
-- Name: FUNCTION grant_enqueuer(role_name text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.grant_enqueuer(role_name text) FROM PUBLIC;


--
-- Name: FUNCTION grant_privileges(role_name text, kind text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.grant_privileges(role_name text, kind text) FROM PUBLIC;


--
-- Name: FUNCTION grant_reader(role_name text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.grant_reader(role_name text) FROM PUBLIC;


--
-- Name: FUNCTION grant_worker(role_name text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.grant_worker(role_name text) FROM PUBLIC;


--
-- Name: FUNCTION job_event_payload_long(job bigint, status text, method text, queue text, attempt integer, error text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.job_event_payload_long(job bigint, status text, method text, queue text, attempt integer, error text) FROM PUBLIC;


--
-- Name: FUNCTION job_event_payload(job bigint, status text, method text, queue text, attempt integer, error text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.job_event_payload(job bigint, status text, method text, queue text, attempt integer, error text) FROM PUBLIC;


--
-- Name: FUNCTION job_status_changed(); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.job_status_changed() FROM PUBLIC;


--
-- Name: FUNCTION left_bytes(value text, max_bytes integer); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.left_bytes(value text, max_bytes integer) FROM PUBLIC;


--
-- Name: FUNCTION limit_stats(); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.limit_stats() FROM PUBLIC;


--
-- Name: FUNCTION lock_parents(parents bigint[], OUT waiting boolean, OUT dead_parent bigint, OUT dead_status text, OUT dead_method text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.lock_parents(parents bigint[], OUT waiting boolean, OUT dead_parent bigint, OUT dead_status text, OUT dead_method text) FROM PUBLIC;


--
-- Name: FUNCTION may_act_on_job(job bigint); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.may_act_on_job(job bigint) FROM PUBLIC;


--
-- Name: FUNCTION notify_enqueued(); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.notify_enqueued() FROM PUBLIC;


--
-- Name: FUNCTION pause_queue(queue text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.pause_queue(queue text) FROM PUBLIC;


--
-- Name: FUNCTION publish_job_progress(job bigint, percent numeric, title text, description text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.publish_job_progress(job bigint, percent numeric, title text, description text) FROM PUBLIC;


--
-- Name: FUNCTION publish_progress(percent numeric, title text, description text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.publish_progress(percent numeric, title text, description text) FROM PUBLIC;


--
-- Name: FUNCTION publish_realtime(event text, message jsonb, job bigint); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.publish_realtime(event text, message jsonb, job bigint) FROM PUBLIC;


--
-- Name: FUNCTION queue_is_paused(queue text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.queue_is_paused(queue text) FROM PUBLIC;


--
-- Name: FUNCTION queue_stats(); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.queue_stats() FROM PUBLIC;


--
-- Name: FUNCTION raise_duplicate_job_id(job_id text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.raise_duplicate_job_id(job_id text) FROM PUBLIC;


--
-- Name: FUNCTION rate_room_in(queue text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.rate_room_in(queue text) FROM PUBLIC;


--
-- Name: FUNCTION refresh_grants(); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.refresh_grants() FROM PUBLIC;


--
-- Name: FUNCTION release_dependants_of(ended bigint[]); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.release_dependants_of(ended bigint[]) FROM PUBLIC;


--
-- Name: FUNCTION release_inserted_dependant(); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.release_inserted_dependant() FROM PUBLIC;


--
-- Name: FUNCTION requeue_jobs(ids bigint[]); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.requeue_jobs(ids bigint[]) FROM PUBLIC;


--
-- Name: FUNCTION resume_queue(queue text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.resume_queue(queue text) FROM PUBLIC;


--
-- Name: FUNCTION retry_jobs(queue text, method text, since timestamp with time zone, before timestamp with time zone, status text, max_jobs integer); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.retry_jobs(queue text, method text, since timestamp with time zone, before timestamp with time zone, status text, max_jobs integer) FROM PUBLIC;


--
-- Name: FUNCTION revoke_grants(role_name text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.revoke_grants(role_name text) FROM PUBLIC;


--
-- Name: FUNCTION set_limit(name text, value integer); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.set_limit(name text, value integer) FROM PUBLIC;


--
-- Name: FUNCTION set_limit(queue text, limit_key text, each_key boolean, max_running integer, max_starts integer, per interval, fair boolean); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.set_limit(queue text, limit_key text, each_key boolean, max_running integer, max_starts integer, per interval, fair boolean) FROM PUBLIC;


--
-- Name: FUNCTION stats(); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.stats() FROM PUBLIC;


--
-- Name: FUNCTION stats_bucket_seconds(bucket integer); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.stats_bucket_seconds(bucket integer) FROM PUBLIC;


--
-- Name: FUNCTION trace_context_valid(traceparent text, tracestate text); Type: ACL; Schema: porter; Owner: -
--

REVOKE ALL ON FUNCTION porter.trace_context_valid(traceparent text, tracestate text) FROM PUBLIC;


--
-- PostgreSQL database dump complete
--


