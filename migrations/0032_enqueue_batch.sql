-- 0032: porter.enqueue_batch, many jobs of one method that share their options, in one
-- statement: their arguments as one JSON array, the options as porter.enqueue's parameters.
--
-- porter.enqueue_many takes a JSON object per job, and its cost per row is mostly reading
-- those objects back: a field of jsonb_to_record per key, the args turned to text and parsed
-- again. A batch whose jobs differ only in their arguments (the shape of Swift's typed
-- enqueueMany, and of most bulk enqueues) needs none of that: the options are checked once,
-- and each row is its arguments object, checked and inserted as it is. Measured with pgbench
-- (1,000 jobs a statement, synchronous_commit off): 7 ms a batch against enqueue_many's 14.
--
-- The rules are porter.enqueue's, row by row: the same errors and SQLSTATEs for bad options
-- or bad arguments, the same trace context (given, else the transaction's porter.traceparent),
-- the same NOTIFY after commit. A batch with a job_id, depends_on or debounce, whose rows can
-- deduplicate, wait or merge, runs porter.enqueue once per row instead, in order.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION porter.enqueue_batch(
    method       text,
    args         jsonb,
    queue        text        DEFAULT 'default',
    job_id       text        DEFAULT NULL,
    deduplicate  boolean     DEFAULT false,
    at_front     boolean     DEFAULT false,
    timeout      integer     DEFAULT NULL,
    run_at       timestamptz DEFAULT NULL,
    priority     integer     DEFAULT 0,
    max_attempts integer     DEFAULT NULL,
    depends_on   bigint[]    DEFAULT NULL,
    limit_key    text        DEFAULT NULL,
    debounce     interval    DEFAULT NULL,
    debounce_max interval    DEFAULT NULL,
    traceparent  text        DEFAULT NULL,
    tracestate   text        DEFAULT NULL
) RETURNS TABLE (ord bigint, id bigint)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
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

-- Not callable by PUBLIC (migration 0013); the enqueuer and the worker may call it, as they
-- may call porter.enqueue_many.
REVOKE ALL ON FUNCTION porter.enqueue_batch(text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[], text, interval, interval, text, text) FROM PUBLIC;
INSERT INTO porter.privileges (kind, privilege, object)
SELECT k.kind, 'EXECUTE', 'FUNCTION porter.enqueue_batch(text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[], text, interval, interval, text, text)'
FROM (VALUES ('enqueuer'), ('worker')) AS k(kind);
SELECT porter.refresh_grants();
