-- 0002: SQL-level enqueue, the one definition of the enqueue rules.
--
-- porter.enqueue is callable with named arguments from psql, a trigger or any client.
-- porter.enqueue_many inserts a batch in one statement. The Swift API calls these functions,
-- so Swift and SQL cannot drift apart. Bad input is refused with SQLSTATE 22023
-- (invalid_parameter_value) or 22004 (null_value_not_allowed) and the offending parameter in
-- the error's COLUMN field; a duplicate active job_id is 23505 (unique_violation) naming the
-- constraint jobs_job_id_active_key.

-- Validates one job's enqueue arguments; raises a clear error for the first bad one.
CREATE FUNCTION porter.check_enqueue(
    method text, args jsonb, queue text, job_id text, deduplicate boolean,
    timeout integer, max_attempts integer
) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    max_bytes integer := coalesce(nullif(current_setting('porter.max_args_bytes', true), '')::integer, 1048576);
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
    IF args IS NOT NULL AND jsonb_typeof(args) <> 'object' THEN
        RAISE EXCEPTION 'porter.enqueue: args must be a JSON object, got a JSON %', jsonb_typeof(args)
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'args',
                  HINT = 'wrap the values in an object of named arguments, e.g. {"outlet": "A1"}';
    END IF;
    IF args IS NOT NULL AND pg_column_size(args) > max_bytes THEN
        RAISE EXCEPTION 'porter.enqueue: args are % bytes, over the limit of % bytes', pg_column_size(args), max_bytes
            USING ERRCODE = 'program_limit_exceeded', COLUMN = 'args',
                  HINT = 'store large data in a table and pass its key; or raise the limit with SET porter.max_args_bytes';
    END IF;
    IF queue IS NULL OR btrim(queue) = '' THEN
        RAISE EXCEPTION 'porter.enqueue: queue must be a non-empty name'
            USING ERRCODE = CASE WHEN queue IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END,
                  COLUMN = 'queue', HINT = 'use short, default, long or a queue from your config';
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
    RETURN true;
END
$$;

-- Raises the error for a job_id that already has an active job and no deduplicate flag.
CREATE FUNCTION porter.raise_duplicate_job_id(job_id text) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'porter.enqueue: job_id % is already queued or running', quote_literal(job_id)
        USING ERRCODE = 'unique_violation', CONSTRAINT = 'jobs_job_id_active_key', COLUMN = 'job_id',
              DETAIL = format('An active (queued, scheduled or started) job has job_id %s.', quote_literal(job_id)),
              HINT = 'pass deduplicate => true to skip enqueueing a duplicate, or wait until the active job ends';
END
$$;

-- Inserts a batch of jobs in one statement and returns, per input element (ord counts from
-- 1), the new job's id, or NULL when deduplicate skipped it. Each element is an object with
-- the keys of porter.enqueue's parameters, plus delay (seconds from now, an alternative to
-- run_at measured on the database's clock). The whole batch fails on the first bad element.
-- Served by jobs_job_id_active_key for deduplication.
CREATE FUNCTION porter.enqueue_many(jobs jsonb)
RETURNS TABLE (ord bigint, id bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    IF jobs IS NULL OR jsonb_typeof(jobs) <> 'array' THEN
        RAISE EXCEPTION 'porter.enqueue_many: jobs must be a JSON array of job objects'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'jobs';
    END IF;
    RETURN QUERY
    WITH input AS MATERIALIZED (
        SELECT e.ord, x.method, x.args, x.job_id, x.deduplicate, x.at_front, x.timeout,
               x.priority, x.max_attempts,
               -- A missing queue key means 'default'; an explicit null is refused.
               CASE WHEN e.spec ? 'queue' THEN x.queue ELSE 'default' END AS queue,
               coalesce(x.run_at, now() + make_interval(secs => coalesce(x.delay, 0))) AS effective_run_at,
               nextval(pg_get_serial_sequence('porter.jobs', 'id')) AS new_id,
               porter.check_enqueue(x.method, x.args, CASE WHEN e.spec ? 'queue' THEN x.queue ELSE 'default' END, x.job_id,
                                    x.deduplicate, x.timeout, x.max_attempts) AS valid
        FROM jsonb_array_elements(jobs) WITH ORDINALITY AS e(spec, ord)
        CROSS JOIN LATERAL jsonb_to_record(e.spec) AS x(
            method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean,
            timeout integer, run_at timestamptz, delay double precision, priority integer, max_attempts integer)
    ), inserted AS (
        INSERT INTO porter.jobs AS j
            (id, job_id, method, queue, args, status, priority, at_front, max_attempts, timeout, run_at)
        SELECT i.new_id, i.job_id, i.method, i.queue, coalesce(i.args, '{}'),
               CASE WHEN i.effective_run_at > now() THEN 'scheduled' ELSE 'queued' END,
               coalesce(i.priority, 0), coalesce(i.at_front, false), i.max_attempts, i.timeout,
               i.effective_run_at
        FROM input i
        ORDER BY i.ord
        ON CONFLICT (job_id) WHERE status IN ('queued', 'scheduled', 'started') DO NOTHING
        RETURNING j.id
    )
    SELECT i.ord,
           CASE WHEN ins.id IS NULL AND NOT coalesce(i.deduplicate, false)
                THEN porter.raise_duplicate_job_id(i.job_id)
                ELSE ins.id END
    FROM input i
    LEFT JOIN inserted ins ON ins.id = i.new_id
    ORDER BY i.ord;
END
$$;

-- Enqueues one job and returns its id, or NULL when deduplicate => true found an active job
-- with the same job_id. Delivers a NOTIFY on porter_enqueue at commit.
CREATE FUNCTION porter.enqueue(
    method       text,
    args         jsonb       DEFAULT '{}',
    queue        text        DEFAULT 'default',
    job_id       text        DEFAULT NULL,
    deduplicate  boolean     DEFAULT false,
    at_front     boolean     DEFAULT false,
    timeout      integer     DEFAULT NULL,
    run_at       timestamptz DEFAULT NULL,
    priority     integer     DEFAULT 0,
    max_attempts integer     DEFAULT NULL
) RETURNS bigint
LANGUAGE sql AS $$
    SELECT m.id FROM porter.enqueue_many(jsonb_build_array(jsonb_build_object(
        'method', method, 'args', args, 'queue', queue, 'job_id', job_id,
        'deduplicate', deduplicate, 'at_front', at_front, 'timeout', timeout,
        'run_at', run_at, 'priority', priority, 'max_attempts', max_attempts))) AS m
$$;
