-- 0033: porter.enqueue_many looks up the jobs' id sequence once per call, not once per row.
--
-- Its fast path numbered each row with nextval(pg_get_serial_sequence('porter.jobs', 'id')),
-- and pg_get_serial_sequence, being STABLE rather than IMMUTABLE, ran for every row: catalog
-- lookups that cost about 2 ms of a 1,000-job call's 14-15 (12-14 ms after; pgbench,
-- synchronous_commit off). The function is 0026's otherwise, word for word; its grants stay,
-- as CREATE OR REPLACE keeps them.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

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
$$;
