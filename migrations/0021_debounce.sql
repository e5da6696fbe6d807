-- 0021: debounce (issue 20). porter.enqueue(..., job_id => 'reindex:42', debounce => interval
-- '5 seconds', debounce_max => interval '1 minute'): while a job with that job_id waits (queued,
-- scheduled or deferred, not started), another enqueue replaces its arguments and moves its
-- run_at to now + debounce, but never past its first enqueue + debounce_max, and returns the
-- same id. Once it has started, the next enqueue makes a new job.
--
-- That new job needs the job_id while the started one still holds it, which
-- jobs_job_id_active_key (one active job per job_id: waiting or started) forbade. A debounced
-- job is marked (porter.jobs.debounced), and the index leaves out started debounced jobs: a
-- job_id still has at most one waiting job, and a job enqueued without debounce keeps
-- Frappe's rule (no second job while one runs). The index is built anew under a temporary
-- name and renamed, so the constraint keeps its name, which errors and clients match on
-- (PorterError's duplicateJob). Building it reads porter.jobs once and holds off writes to it
-- meanwhile (seconds for a million rows). Every ON CONFLICT that names the index's predicate
-- (porter.enqueue, porter.enqueue_many) is written anew with the new predicate.
--
-- Rights (migration 0013): CREATE OR REPLACE keeps the grants; the new function is only
-- called by porter.enqueue, as the schema's owner.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

-- Whether the job was enqueued with debounce: once started, it no longer holds its job_id.
ALTER TABLE porter.jobs ADD COLUMN debounced boolean NOT NULL DEFAULT false;

-- One waiting job per job_id, and one active job per job_id among jobs enqueued without
-- debounce (the rule of migrations 0001 and 0006).
CREATE UNIQUE INDEX jobs_job_id_active_key_new ON porter.jobs (job_id)
    WHERE job_id IS NOT NULL AND status IN ('queued', 'scheduled', 'started', 'deferred') AND NOT (status = 'started' AND debounced);
DROP INDEX porter.jobs_job_id_active_key;
ALTER INDEX porter.jobs_job_id_active_key_new RENAME TO jobs_job_id_active_key;

-- porter.enqueue with debounce: replaces the waiting job's arguments and delays it, or inserts
-- a new debounced job. Refuses debounce without job_id, a debounce that is not positive,
-- debounce_max without debounce or below it. The UPDATE locks the waiting job (a claim that
-- holds it is waited for, then the job is seen started and a new one is made); two concurrent
-- first enqueues meet in the index, and the one that loses updates the other's job.
CREATE FUNCTION porter.enqueue_debounced(
    method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean, timeout integer,
    run_at timestamptz, priority integer, max_attempts integer, depends_on bigint[], limit_key text,
    debounce interval, debounce_max interval)
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
                 depends_on, ended_at, error, limit_key, debounced)
            VALUES (enqueue_debounced.job_id, enqueue_debounced.method, enqueue_debounced.queue, coalesce(enqueue_debounced.args, '{}'),
                    CASE WHEN dead_parent IS NOT NULL THEN 'canceled'
                         WHEN waiting THEN 'deferred'
                         WHEN due > now() THEN 'scheduled' ELSE 'queued' END,
                    coalesce(enqueue_debounced.priority, 0), coalesce(enqueue_debounced.at_front, false),
                    enqueue_debounced.max_attempts, enqueue_debounced.timeout, due, nullif(enqueue_debounced.depends_on, '{}'),
                    CASE WHEN dead_parent IS NOT NULL THEN now() END,
                    CASE WHEN dead_parent IS NOT NULL THEN porter.dependency_error(dead_parent, dead_method, dead_status) END,
                    enqueue_debounced.limit_key, true)
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

-- porter.enqueue with debounce handed to porter.enqueue_debounced, and the new predicate.
CREATE OR REPLACE FUNCTION porter.enqueue(
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
        RETURN porter.enqueue_debounced(enqueue.method, enqueue.args, enqueue.queue, enqueue.job_id, enqueue.deduplicate,
                                        enqueue.at_front, enqueue.timeout, enqueue.run_at, enqueue.priority,
                                        enqueue.max_attempts, enqueue.depends_on, enqueue.limit_key, enqueue.debounce,
                                        enqueue.debounce_max);
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
    ON CONFLICT (job_id) WHERE job_id IS NOT NULL AND status IN ('queued', 'scheduled', 'started', 'deferred') AND NOT (status = 'started' AND debounced) DO NOTHING
    RETURNING j.id INTO new_id;
    IF new_id IS NULL AND NOT coalesce(enqueue.deduplicate, false) THEN
        PERFORM porter.raise_duplicate_job_id(enqueue.job_id);
    END IF;
    RETURN new_id;
END
$$;

-- porter.enqueue_many: a batch with debounce or debounce_max (seconds) goes through porter.enqueue
-- element by element, as one with depends_on does; and the new predicate.
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
    IF NOT jsonb_path_exists(jobs, '$[*].depends_on[*]') AND NOT jsonb_path_exists(jobs, '$[*].debounce')
       AND NOT jsonb_path_exists(jobs, '$[*].debounce_max') THEN
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
                          make_interval(secs => x.debounce), make_interval(secs => x.debounce_max))
    FROM jsonb_array_elements(jobs) WITH ORDINALITY AS e(spec, ord)
    CROSS JOIN LATERAL jsonb_to_record(e.spec) AS x(
        method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean,
        timeout integer, run_at timestamptz, delay double precision, priority integer, max_attempts integer,
        depends_on bigint[], limit_key text, debounce double precision, debounce_max double precision)
    ORDER BY e.ord;
END
$$;


-- Only porter.enqueue calls it, as the schema's owner.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA porter FROM PUBLIC;
