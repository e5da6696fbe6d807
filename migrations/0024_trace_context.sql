-- 0024: a job carries the W3C trace context of its enqueue (issue 23), so that the worker's
-- span for each attempt joins the trace of the request, trigger or psql session that queued
-- it. porter.jobs.traceparent holds a W3C `traceparent` (version-traceid-parentid-flags,
-- lowercase hex) and tracestate the vendor `tracestate` that came with it. They are written
-- once, by the enqueue: a retry, a rescue or a requeue changes neither (every attempt is
-- linked to the same enqueue), and a debounced job keeps the context of the enqueue that
-- created it.
--
-- porter.enqueue takes traceparent and tracestate after debounce_max (a new signature, so the
-- old one is dropped: positional calls of the first fourteen arguments and named calls resolve
-- to the new one unchanged), and porter.enqueue_many items take the keys "traceparent" and
-- "tracestate". A malformed value is refused with SQLSTATE 22023 (invalid_parameter_value),
-- naming the parameter, the value and the form expected; nothing is stored. When traceparent
-- is NULL, porter.enqueue and porter.enqueue_many take the session's setting
-- porter.traceparent (and porter.tracestate) when it holds a valid value, so that a trigger
-- that enqueues inside a traced transaction (`SET LOCAL porter.traceparent = '00-…'`) joins
-- its trace without passing it; an invalid setting is ignored, as an unset one is.
--
-- Rights (migration 0013): SECURITY DEFINER with a pinned search_path, as before; the new
-- porter.enqueue replaces the old one in the enqueuer's and the worker's grants.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

-- NULL on every existing row and by default: a job enqueued without a trace is not traced.
ALTER TABLE porter.jobs ADD COLUMN traceparent text;
ALTER TABLE porter.jobs ADD COLUMN tracestate text;

-- What a span reads back is what W3C Trace Context calls a valid traceparent: version 00-fe
-- (ff is forbidden), a non-zero trace id and a non-zero parent id, lowercase hex. NOT VALID
-- is not needed: every existing row is NULL.
ALTER TABLE porter.jobs ADD CONSTRAINT jobs_traceparent_w3c CHECK (
    traceparent ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$'
    AND left(traceparent, 2) <> 'ff'
    AND substr(traceparent, 4, 32) <> '00000000000000000000000000000000'
    AND substr(traceparent, 37, 16) <> '0000000000000000');
-- tracestate is only meaningful beside a traceparent, and W3C caps what a vendor propagates
-- at 512 bytes (32 list members); a row must stay small.
ALTER TABLE porter.jobs ADD CONSTRAINT jobs_tracestate_with_traceparent CHECK (
    tracestate IS NULL OR (traceparent IS NOT NULL AND octet_length(tracestate) <= 512));

-- Whether a traceparent and tracestate could be stored: the two constraints above, as one
-- test. A SQL function with a standard body, so that the planner inlines it and its
-- built-ins are bound to pg_catalog when it is created (migration 0013).
CREATE FUNCTION porter.trace_context_valid(traceparent text, tracestate text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (traceparent IS NULL AND tracestate IS NULL)
    OR (traceparent ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$'
        AND left(traceparent, 2) <> 'ff'
        AND substr(traceparent, 4, 32) <> '00000000000000000000000000000000'
        AND substr(traceparent, 37, 16) <> '0000000000000000'
        AND (tracestate IS NULL OR octet_length(tracestate) <= 512));

-- Raises the error for a traceparent or tracestate that porter.trace_context_valid refused;
-- called only then, off the enqueue's path. The value is quoted cut to 80 bytes: it can be
-- any size, and an error message must stay readable.
CREATE FUNCTION porter.check_trace_context(traceparent text, tracestate text, caller text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
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
$$;

-- porter.enqueue_debounced stores the context of the enqueue that creates the job; a later
-- enqueue that only delays it leaves it as it is.
DROP FUNCTION porter.enqueue_debounced(text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[], text, interval, interval);
CREATE FUNCTION porter.enqueue_debounced(
    method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean, timeout integer,
    run_at timestamptz, priority integer, max_attempts integer, depends_on bigint[], limit_key text,
    debounce interval, debounce_max interval, traceparent text, tracestate text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
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

-- porter.enqueue with traceparent and tracestate after 0020's parameters.
DROP FUNCTION porter.enqueue(text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[], text, interval, interval);
CREATE FUNCTION porter.enqueue(
    method text, args jsonb DEFAULT '{}'::jsonb, queue text DEFAULT 'default'::text, job_id text DEFAULT NULL::text,
    deduplicate boolean DEFAULT false, at_front boolean DEFAULT false, timeout integer DEFAULT NULL::integer,
    run_at timestamp with time zone DEFAULT NULL::timestamp with time zone, priority integer DEFAULT 0,
    max_attempts integer DEFAULT NULL::integer, depends_on bigint[] DEFAULT NULL::bigint[],
    limit_key text DEFAULT NULL, debounce interval DEFAULT NULL, debounce_max interval DEFAULT NULL,
    traceparent text DEFAULT NULL, tracestate text DEFAULT NULL)
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
$$;

-- porter.enqueue_many: an item's "traceparent" and "tracestate" keys, checked before
-- anything is inserted; an item without them takes the transaction's porter.traceparent, as
-- porter.enqueue does.
CREATE OR REPLACE FUNCTION porter.enqueue_many(jobs jsonb)
RETURNS TABLE(ord bigint, id bigint)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    limits porter.settings := porter.effective_settings();
    bad_key text;
    bad_parent text;
    bad_state text;
    ambient_parent text := nullif(current_setting('porter.traceparent', true), '');
    ambient_state text;
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
                   nextval(pg_get_serial_sequence('porter.jobs', 'id')) AS new_id,
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
$$;

-- No new function is callable by PUBLIC (migration 0013). The new porter.enqueue replaces the
-- old one in every kind's grants; the two trace functions are only called by the SECURITY
-- DEFINER enqueue functions, as the schema's owner.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA porter FROM PUBLIC;
DELETE FROM porter.privileges
WHERE object = 'FUNCTION porter.enqueue(text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[], text, interval, interval)';
INSERT INTO porter.privileges (kind, privilege, object) VALUES
    ('enqueuer', 'EXECUTE', 'FUNCTION porter.enqueue(text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[], text, interval, interval, text, text)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.enqueue(text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[], text, interval, interval, text, text)');
SELECT porter.refresh_grants();
