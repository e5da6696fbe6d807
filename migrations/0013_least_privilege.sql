-- 0013: least privilege. Every function pins its search_path, three roles' worth of grants
-- (enqueuer, worker, reader), limits that only the schema's owner can change, and job state
-- events that only Porter sends.
--
-- No function set its search_path, so a function that a role with CREATE on a schema in the
-- caller's path (an app role that owns the database has it on public) planted beside a
-- built-in could win: public.to_json(text) is a better match for to_json(text) than
-- pg_catalog.to_json(anyelement), and ran as the worker at every state change. Now every
-- PL/pgSQL function runs with search_path = pg_catalog, pg_temp. The SQL functions that the
-- planner must inline (job_event_payload, on every state change) cannot have a SET clause:
-- they are written with a SQL-standard body (RETURN ...), which PostgreSQL parses when the
-- function is created, under the search_path set below, so their built-ins and operators are
-- bound to pg_catalog once and for all.
--
-- Every function was EXECUTE-able by PUBLIC, and the rights a non-owner role needed had to be
-- worked out by hand. Now EXECUTE is revoked from PUBLIC, and porter.grant_enqueuer,
-- porter.grant_worker and porter.grant_reader give a role what it needs, listed in
-- porter.privileges. The enqueue and publish functions are SECURITY DEFINER, so an enqueuer
-- needs no right on any table. A job records the role that enqueued it (enqueued_by), and an
-- enqueuer publishes only about its own jobs and reads only their args and results.
--
-- porter.max_args_bytes was a setting any session could raise for itself. The limits now
-- live in porter.settings, which only the schema's owner may change (porter.set_limit); the
-- old setting can still lower the args limit for a session, never raise it. Method, queue,
-- job_id and event names get byte limits, realtime messages a size limit, and stored
-- messages a cap. publish_realtime refuses the job state event names: a listener can no
-- longer be told by another role that a job finished.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

-- The limits, in one row. Changed only by the schema's owner, with porter.set_limit, which
-- also moves the table constraints that hold the job limits for every writer (migration 0014).
CREATE TABLE porter.settings (
    singleton           boolean NOT NULL DEFAULT true,
    -- Arguments, as stored (pg_column_size of the jsonb).
    max_args_bytes      integer NOT NULL DEFAULT 1048576,
    -- Method names. Enough for sql: with two full-length identifiers (4 + 63 + 1 + 63).
    max_method_bytes    integer NOT NULL DEFAULT 256,
    max_queue_bytes     integer NOT NULL DEFAULT 128,
    -- Enough for the scheduler's job_id, scheduled:<method>.
    max_job_id_bytes    integer NOT NULL DEFAULT 512,
    -- Names of publish_realtime events.
    max_event_bytes     integer NOT NULL DEFAULT 128,
    -- publish_realtime messages, as stored.
    max_message_bytes   integer NOT NULL DEFAULT 1048576,
    -- Messages too large for NOTIFY that may be stored at once (they are pruned after a day).
    max_stored_messages integer NOT NULL DEFAULT 10000,
    CONSTRAINT settings_pkey PRIMARY KEY (singleton),
    -- One row only: the singleton key can only be true.
    CONSTRAINT settings_one_row CHECK (singleton),
    -- jsonb holds at most 255 MB; names at most 1 MiB keep every event and index entry sane.
    CONSTRAINT settings_limits_in_range CHECK (
        max_args_bytes BETWEEN 1 AND 268435455 AND max_message_bytes BETWEEN 1 AND 268435455
        AND max_method_bytes BETWEEN 1 AND 1048576 AND max_queue_bytes BETWEEN 1 AND 1048576
        AND max_job_id_bytes BETWEEN 1 AND 1048576 AND max_event_bytes BETWEEN 1 AND 1048576
        AND max_stored_messages BETWEEN 0 AND 1000000000)
);

COMMENT ON TABLE porter.settings IS 'Porter''s limits; change them with porter.set_limit (the schema''s owner only).';

-- An args limit the owner had raised with the old setting, for the database or the migrating
-- role, is carried over; a session's own SET is not seen here.
INSERT INTO porter.settings (max_args_bytes)
VALUES (CASE WHEN current_setting('porter.max_args_bytes', true) ~ '^[0-9]{1,9}$'
             THEN least(greatest(current_setting('porter.max_args_bytes', true)::integer, 1048576), 268435455)
             ELSE 1048576 END);

-- The limits in force for this session: porter.settings, with the args limit lowered by the
-- old porter.max_args_bytes setting when a session sets it lower (it can never raise it).
CREATE FUNCTION porter.effective_settings() RETURNS porter.settings
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp AS $$
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
$$;

-- Who enqueued each job: the session's login role (session_user, which only a superuser can
-- change). An enqueuer reads the args and results of its own jobs only (porter.my_jobs) and
-- publishes only about them. NULL for jobs enqueued before this migration.
ALTER TABLE porter.jobs ADD COLUMN enqueued_by text;
ALTER TABLE porter.jobs ALTER COLUMN enqueued_by SET DEFAULT session_user;

-- Whether this session may publish about, or report the progress of, job `job`: any session
-- may publish events about no job; the schema's owner (and superusers) and the roles granted
-- the worker's privileges may act on any job; an enqueuer on the jobs it enqueued. Called by
-- the SECURITY DEFINER publish functions, so it reads as the schema's owner. Served by
-- jobs_pkey.
CREATE TABLE porter.grantees (
    role_name  text        NOT NULL,
    kind       text        NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT grantees_pkey PRIMARY KEY (role_name, kind),
    CONSTRAINT grantees_kind_valid CHECK (kind IN ('enqueuer', 'worker', 'reader'))
);

COMMENT ON TABLE porter.grantees IS 'The roles porter.grant_enqueuer, grant_worker and grant_reader were given to.';

CREATE FUNCTION porter.may_act_on_job(job bigint) RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN job IS NULL
        OR pg_has_role(session_user, (SELECT n.nspowner FROM pg_namespace n WHERE n.nspname = 'porter'), 'MEMBER')
        OR EXISTS (SELECT 1 FROM porter.grantees g JOIN pg_roles r ON r.rolname = g.role_name
                   WHERE g.kind = 'worker' AND pg_has_role(session_user, r.oid, 'MEMBER'))
        OR EXISTS (SELECT 1 FROM porter.jobs j WHERE j.id = may_act_on_job.job AND j.enqueued_by = session_user);
END
$$;

-- What every granted role sees of every job: statuses, counts and timings, and the progress
-- that is published to every listener anyway; never args, result or errors.
CREATE VIEW porter.job_states AS
SELECT id, job_id, method, queue, status, priority, at_front, attempts, max_attempts, timeout, run_at,
       enqueued_at, started_at, ended_at, progress, worker_id, orphaned, cancel_requested_at, depends_on,
       enqueued_by
FROM porter.jobs;

COMMENT ON VIEW porter.job_states IS 'Every job''s status, counts and timings, without args, result or errors.';

-- An enqueuer's own jobs, whole. A security barrier, so that no function in a query's WHERE
-- sees another role's rows before the filter has removed them.
CREATE VIEW porter.my_jobs WITH (security_barrier) AS
SELECT * FROM porter.jobs WHERE enqueued_by = session_user;

COMMENT ON VIEW porter.my_jobs IS 'The jobs this session''s login role enqueued, with their args and results.';

-- The rule that porter.check_enqueue spells out error by error, as one expression, for
-- porter.enqueue_many to test each row cheaply and call check_enqueue (for its error) only for
-- a bad one. A SQL-standard body, bound at creation and inlined by the planner.
CREATE FUNCTION porter.enqueue_valid(
    method text, args jsonb, queue text, job_id text, deduplicate boolean, timeout integer,
    max_attempts integer, run_at timestamptz, limits porter.settings
) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN method IS NOT NULL AND btrim(method) <> '' AND octet_length(method) <= limits.max_method_bytes
    AND (args IS NULL OR (jsonb_typeof(args) = 'object' AND pg_column_size(args) <= limits.max_args_bytes))
    AND queue IS NOT NULL AND btrim(queue) <> '' AND octet_length(queue) <= limits.max_queue_bytes
    AND (job_id IS NULL OR octet_length(job_id) <= limits.max_job_id_bytes)
    AND (timeout IS NULL OR timeout > 0)
    AND (max_attempts IS NULL OR max_attempts >= 1)
    AND (job_id IS NOT NULL OR NOT coalesce(deduplicate, false))
    AND (run_at IS NULL OR isfinite(run_at));

-- 0002's validation, with the byte limits of porter.settings and a finite run_at. Raises a
-- clear error for the first bad argument; the rules are those of porter.enqueue_valid.
DROP FUNCTION porter.check_enqueue(text, jsonb, text, text, boolean, integer, integer);
CREATE FUNCTION porter.check_enqueue(
    method text, args jsonb, queue text, job_id text, deduplicate boolean,
    timeout integer, max_attempts integer, run_at timestamptz DEFAULT NULL
) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
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

-- 0006's porter.enqueue, as its owner (an enqueuer needs no right on porter.jobs), with run_at
-- checked.
CREATE OR REPLACE FUNCTION porter.enqueue(
    method       text,
    args         jsonb       DEFAULT '{}',
    queue        text        DEFAULT 'default',
    job_id       text        DEFAULT NULL,
    deduplicate  boolean     DEFAULT false,
    at_front     boolean     DEFAULT false,
    timeout      integer     DEFAULT NULL,
    run_at       timestamptz DEFAULT NULL,
    priority     integer     DEFAULT 0,
    max_attempts integer     DEFAULT NULL,
    depends_on   bigint[]    DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    new_id bigint;
    parents record;
    -- A variable, so that porter.enqueue_valid below is inlined (an argument that is a call,
    -- used several times, would stop it).
    limits porter.settings := porter.effective_settings();
BEGIN
    -- Parameters are qualified with the function's name: they share names with columns.
    -- check_enqueue only for its error: porter.enqueue_valid tests the same rules inline.
    IF NOT coalesce(porter.enqueue_valid(enqueue.method, enqueue.args, enqueue.queue, enqueue.job_id, enqueue.deduplicate,
                                         enqueue.timeout, enqueue.max_attempts, enqueue.run_at, limits), false) THEN
        PERFORM porter.check_enqueue(enqueue.method, enqueue.args, enqueue.queue, enqueue.job_id,
                                     enqueue.deduplicate, enqueue.timeout, enqueue.max_attempts, enqueue.run_at);
    END IF;
    IF cardinality(enqueue.depends_on) > 0 THEN
        parents := porter.lock_parents(enqueue.depends_on);
    ELSE
        SELECT false AS waiting, NULL::bigint AS dead_parent, NULL::text AS dead_status, NULL::text AS dead_method INTO parents;
    END IF;
    INSERT INTO porter.jobs AS j
        (job_id, method, queue, args, status, priority, at_front, max_attempts, timeout, run_at,
         depends_on, ended_at, error)
    VALUES (enqueue.job_id, enqueue.method, enqueue.queue, coalesce(enqueue.args, '{}'),
            CASE WHEN parents.dead_parent IS NOT NULL THEN 'canceled'
                 WHEN parents.waiting THEN 'deferred'
                 WHEN enqueue.run_at > now() THEN 'scheduled' ELSE 'queued' END,
            coalesce(enqueue.priority, 0), coalesce(enqueue.at_front, false), enqueue.max_attempts,
            enqueue.timeout, coalesce(enqueue.run_at, now()), nullif(enqueue.depends_on, '{}'),
            CASE WHEN parents.dead_parent IS NOT NULL THEN now() END,
            CASE WHEN parents.dead_parent IS NOT NULL
                 THEN porter.dependency_error(parents.dead_parent, parents.dead_method, parents.dead_status) END)
    ON CONFLICT (job_id) WHERE job_id IS NOT NULL AND status IN ('queued', 'scheduled', 'started', 'deferred') DO NOTHING
    RETURNING j.id INTO new_id;
    IF new_id IS NULL AND NOT coalesce(enqueue.deduplicate, false) THEN
        PERFORM porter.raise_duplicate_job_id(enqueue.job_id);
    END IF;
    RETURN new_id;
END
$$;

-- 0006's porter.enqueue_many, as its owner. Each row is tested with porter.enqueue_valid,
-- against the limits read once per call; only a bad row calls check_enqueue, which raises its
-- error. A batch with depends_on goes through porter.enqueue element by element, as before.
CREATE OR REPLACE FUNCTION porter.enqueue_many(jobs jsonb)
RETURNS TABLE (ord bigint, id bigint)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    limits porter.settings := porter.effective_settings();
BEGIN
    IF jobs IS NULL OR jsonb_typeof(jobs) <> 'array' THEN
        RAISE EXCEPTION 'porter.enqueue_many: jobs must be a JSON array of job objects'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'jobs';
    END IF;
    IF NOT jsonb_path_exists(jobs, '$[*].depends_on[*]') THEN
        RETURN QUERY
        WITH spec AS (
            SELECT e.ord, x.method, x.args, x.job_id, x.deduplicate, x.at_front, x.timeout,
                   x.priority, x.max_attempts,
                   -- A missing queue key means 'default'; an explicit null is refused.
                   CASE WHEN e.spec ? 'queue' THEN x.queue ELSE 'default' END AS queue,
                   coalesce(x.run_at, now() + make_interval(secs => coalesce(x.delay, 0))) AS effective_run_at
            FROM jsonb_array_elements(jobs) WITH ORDINALITY AS e(spec, ord)
            CROSS JOIN LATERAL jsonb_to_record(e.spec) AS x(
                method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean,
                timeout integer, run_at timestamptz, delay double precision, priority integer, max_attempts integer)
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
                (id, job_id, method, queue, args, status, priority, at_front, max_attempts, timeout, run_at)
            SELECT i.new_id, i.job_id, i.method, i.queue, coalesce(i.args, '{}'),
                   CASE WHEN i.effective_run_at > now() THEN 'scheduled' ELSE 'queued' END,
                   coalesce(i.priority, 0), coalesce(i.at_front, false), i.max_attempts, i.timeout,
                   i.effective_run_at
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
                          x.priority, x.max_attempts, x.depends_on)
    FROM jsonb_array_elements(jobs) WITH ORDINALITY AS e(spec, ord)
    CROSS JOIN LATERAL jsonb_to_record(e.spec) AS x(
        method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean,
        timeout integer, run_at timestamptz, delay double precision, priority integer, max_attempts integer,
        depends_on bigint[])
    ORDER BY e.ord;
END
$$;

-- 0003's function with a SQL-standard body: bound to pg_catalog at creation, still inlined.
CREATE OR REPLACE FUNCTION porter.current_job_id() RETURNS bigint
LANGUAGE sql STABLE
RETURN nullif(current_setting('porter.current_job_id', true), '')::bigint;

-- 0006's function with a SQL-standard body.
CREATE OR REPLACE FUNCTION porter.dependency_error(parent bigint, parent_method text, parent_status text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN format('canceled: job %s (%s), which this job depends on, %s', parent, parent_method, parent_status);

-- 0008's trigger, with the table named unambiguously: schema and table are quoted where an
-- identifier needs it (as format's %I does), so "we.ird".t and we."ird.t" differ, and
-- (args->>'table')::regclass finds the table.
CREATE OR REPLACE FUNCTION porter.enqueue_row_event() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
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

-- The names of job state events, which only the status trigger and the worker send.
-- 0005's publish_realtime, as its owner, refusing them, with the event name, the message and
-- the number of stored messages limited, and publishing about a job only for a role that
-- may act on it (porter.may_act_on_job).
CREATE OR REPLACE FUNCTION porter.publish_realtime(event text, message jsonb DEFAULT '{}', job bigint DEFAULT porter.current_job_id())
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
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

-- 0012's function, as its owner, for a role that may act on the job. The relay inside a
-- worker's sql: job comes first: it only sends a NOTICE to the session itself.
CREATE OR REPLACE FUNCTION porter.publish_job_progress(job bigint, percent numeric, title text DEFAULT NULL, description text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
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

-- 0012's function, as its owner: a state event too long for NOTIFY is stored whoever changed
-- the job's status.
CREATE OR REPLACE FUNCTION porter.job_event_payload_long(job bigint, status text, method text, queue text, attempt integer, error text)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
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

-- 0012's payload with a SQL-standard body: its functions and operators are bound to
-- pg_catalog here, and it is still a single expression the planner inlines into the status
-- trigger's statement and the worker's started events.
CREATE OR REPLACE FUNCTION porter.job_event_payload(job bigint, status text, method text, queue text, attempt integer, error text)
RETURNS text
LANGUAGE sql VOLATILE
RETURN CASE
    WHEN octet_length(method) + octet_length(queue) + coalesce(octet_length(error), 0) <= 1200
    THEN format('{"job": %s, "event": %s, "message": {"error": %s, "queue": %s, "method": %s, "status": %s, "attempt": %s}}',
                job, to_json(status), coalesce(to_json(error)::text, 'null'), to_json(queue), to_json(method),
                to_json(status), attempt)
    ELSE porter.job_event_payload_long(job, status, method, queue, attempt, error)
END;

-- The other functions keep their bodies, which name no schema but porter: pinned, they resolve
-- every built-in in pg_catalog. enqueue_doc enqueues as its owner, as porter.enqueue does.
ALTER FUNCTION porter.notify_enqueued() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION porter.raise_duplicate_job_id(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION porter.lock_parents(bigint[]) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION porter.publish_progress(numeric, text, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION porter.notify_status_changed() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION porter.release_dependants() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION porter.enqueue_doc(text, text, text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[])
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- What each kind of role may do, one grant per row: porter.grant_privileges runs
-- GRANT <privilege> ON <object> TO the role for every row of its kind. A later migration that
-- adds an object for a kind inserts its row and calls porter.refresh_grants(), so every role
-- granted that kind gets it too.
CREATE TABLE porter.privileges (
    kind      text NOT NULL,
    privilege text NOT NULL,
    object    text NOT NULL,
    CONSTRAINT privileges_pkey PRIMARY KEY (kind, privilege, object),
    CONSTRAINT privileges_kind_valid CHECK (kind IN ('enqueuer', 'worker', 'reader'))
);

INSERT INTO porter.privileges (kind, privilege, object) VALUES
    -- An application: enqueue (also from row-event triggers), read every job's status and its
    -- own jobs whole, publish about its own jobs, and read stored realtime messages (the rest
    -- reaches any listener over NOTIFY, which PostgreSQL does not restrict).
    ('enqueuer', 'USAGE', 'SCHEMA porter'),
    ('enqueuer', 'EXECUTE', 'FUNCTION porter.enqueue(text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[])'),
    ('enqueuer', 'EXECUTE', 'FUNCTION porter.enqueue_many(jsonb)'),
    ('enqueuer', 'EXECUTE', 'FUNCTION porter.enqueue_doc(text, text, text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[])'),
    ('enqueuer', 'EXECUTE', 'FUNCTION porter.check_enqueue(text, jsonb, text, text, boolean, integer, integer, timestamptz)'),
    ('enqueuer', 'EXECUTE', 'FUNCTION porter.enqueue_row_event()'),
    ('enqueuer', 'EXECUTE', 'FUNCTION porter.current_job_id()'),
    ('enqueuer', 'EXECUTE', 'FUNCTION porter.publish_realtime(text, jsonb, bigint)'),
    ('enqueuer', 'EXECUTE', 'FUNCTION porter.publish_job_progress(bigint, numeric, text, text)'),
    ('enqueuer', 'SELECT', 'TABLE porter.job_states'),
    ('enqueuer', 'SELECT', 'TABLE porter.my_jobs'),
    ('enqueuer', 'SELECT', 'TABLE porter.realtime_messages'),
    -- A worker (and its scheduler): claim, run and end jobs, rescue and prune, keep the
    -- workers, schedule and stored-message tables. It changes only the columns a run changes,
    -- never a job's method, args or queue, and inserts jobs only through porter.enqueue.
    -- Vacuum needs ownership; a worker without it leaves vacuuming to autovacuum.
    ('worker', 'USAGE', 'SCHEMA porter'),
    ('worker', 'SELECT', 'TABLE porter.jobs'),
    ('worker', 'UPDATE (status, started_at, ended_at, attempts, result, error, errors, run_at, worker_id, cancel_requested_at, orphaned, progress)', 'TABLE porter.jobs'),
    ('worker', 'DELETE', 'TABLE porter.jobs'),
    ('worker', 'SELECT', 'TABLE porter.job_states'),
    ('worker', 'SELECT, INSERT, UPDATE, DELETE', 'TABLE porter.workers'),
    ('worker', 'SELECT, INSERT, UPDATE, DELETE', 'TABLE porter.schedule'),
    ('worker', 'SELECT, INSERT, UPDATE, DELETE', 'TABLE porter.schedule_fires'),
    ('worker', 'SELECT, DELETE', 'TABLE porter.realtime_messages'),
    ('worker', 'SELECT', 'TABLE porter.schema_migrations'),
    ('worker', 'EXECUTE', 'FUNCTION porter.enqueue(text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[])'),
    ('worker', 'EXECUTE', 'FUNCTION porter.enqueue_many(jsonb)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.enqueue_doc(text, text, text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[])'),
    ('worker', 'EXECUTE', 'FUNCTION porter.check_enqueue(text, jsonb, text, text, boolean, integer, integer, timestamptz)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.enqueue_row_event()'),
    ('worker', 'EXECUTE', 'FUNCTION porter.current_job_id()'),
    ('worker', 'EXECUTE', 'FUNCTION porter.publish_realtime(text, jsonb, bigint)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.publish_job_progress(bigint, numeric, text, text)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.publish_progress(numeric, text, text)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.job_event_payload(bigint, text, text, text, integer, text)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.job_event_payload_long(bigint, text, text, text, integer, text)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.dependency_error(bigint, text, text)'),
    -- A dashboard: statuses, counts and timings, workers and schedules; no args or results.
    ('reader', 'USAGE', 'SCHEMA porter'),
    ('reader', 'SELECT', 'TABLE porter.job_states'),
    ('reader', 'SELECT', 'TABLE porter.workers'),
    ('reader', 'SELECT', 'TABLE porter.schedule'),
    ('reader', 'SELECT', 'TABLE porter.realtime_messages');

-- Grants a role every privilege of `kind` and records it. As the schema's owner, who owns
-- every object granted; EXECUTE only for the owner (and superusers).
CREATE FUNCTION porter.grant_privileges(role_name text, kind text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
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

-- The three ways a DBA gives a role its privileges, once per role:
-- SELECT porter.grant_enqueuer('app'), porter.grant_worker('worker'), porter.grant_reader('dashboard').
CREATE FUNCTION porter.grant_enqueuer(role_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM porter.grant_privileges(role_name, 'enqueuer');
END
$$;

CREATE FUNCTION porter.grant_worker(role_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM porter.grant_privileges(role_name, 'worker');
END
$$;

CREATE FUNCTION porter.grant_reader(role_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM porter.grant_privileges(role_name, 'reader');
END
$$;

-- Grants every recorded role its kinds' privileges again: for a migration that added rows to
-- porter.privileges. Roles dropped since are forgotten.
CREATE FUNCTION porter.refresh_grants() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    grantee record;
BEGIN
    DELETE FROM porter.grantees g WHERE NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = g.role_name);
    FOR grantee IN SELECT g.role_name, g.kind FROM porter.grantees g ORDER BY g.role_name, g.kind LOOP
        PERFORM porter.grant_privileges(grantee.role_name, grantee.kind);
    END LOOP;
END
$$;

-- Takes back every privilege porter.grant_* gave a role, of every kind.
CREATE FUNCTION porter.revoke_grants(role_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
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

-- Changes a limit of porter.settings; the schema's owner only. The job limits are also table
-- constraints (migration 0014), so that every writer is held to them: they are replaced, NOT
-- VALID (rows already stored are not read again; every new or changed row is checked). A
-- limit is not lowered below a job that is still waiting or running, whose next update would
-- then fail. The lock on porter.jobs is waited for 5 s at most, so a long-running job cannot
-- make every claim queue behind this.
CREATE FUNCTION porter.set_limit(name text, value integer) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '5s' AS $$
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
$$;

-- No function is callable by PUBLIC any more: a role gets what its kind needs from
-- porter.grant_*, and the schema's owner keeps every right. PostgreSQL grants EXECUTE on a new
-- function to PUBLIC, and a schema's default privileges cannot take that back, so every later
-- migration that creates a function revokes it too (a test checks that none is left).
REVOKE ALL ON SCHEMA porter FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA porter FROM PUBLIC;
