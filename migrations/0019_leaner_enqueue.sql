-- 0019: porter.enqueue does less per call (issue 13: a single enqueue within 10 % of a bare
-- INSERT of the same row).
--
-- Same parameters, same rules, same errors. Three things it no longer does for every job:
-- - call porter.effective_settings(), a second function with its own search_path to set and
--   restore: the same two lines are inline below;
-- - run a SELECT to fill an empty `parents` record when the job has no depends_on;
-- - insert speculatively when there is no job_id: ON CONFLICT ... DO NOTHING makes every
--   insert a speculative one (an extra WAL record and a check of jobs_job_id_active_key),
--   which only a job_id can need. A job without one takes the plain INSERT.
--
-- Rights (migration 0013): the function keeps its SECURITY DEFINER and pinned search_path;
-- CREATE OR REPLACE keeps its grants.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION porter.enqueue(
    method text, args jsonb DEFAULT '{}'::jsonb, queue text DEFAULT 'default'::text, job_id text DEFAULT NULL::text,
    deduplicate boolean DEFAULT false, at_front boolean DEFAULT false, timeout integer DEFAULT NULL::integer,
    run_at timestamp with time zone DEFAULT NULL::timestamp with time zone, priority integer DEFAULT 0,
    max_attempts integer DEFAULT NULL::integer, depends_on bigint[] DEFAULT NULL::bigint[])
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
             depends_on, ended_at, error)
        VALUES (NULL, enqueue.method, enqueue.queue, coalesce(enqueue.args, '{}'),
                CASE WHEN dead_parent IS NOT NULL THEN 'canceled'
                     WHEN waiting THEN 'deferred'
                     WHEN enqueue.run_at > now() THEN 'scheduled' ELSE 'queued' END,
                coalesce(enqueue.priority, 0), coalesce(enqueue.at_front, false), enqueue.max_attempts,
                enqueue.timeout, coalesce(enqueue.run_at, now()), nullif(enqueue.depends_on, '{}'),
                CASE WHEN dead_parent IS NOT NULL THEN now() END,
                CASE WHEN dead_parent IS NOT NULL THEN porter.dependency_error(dead_parent, dead_method, dead_status) END)
        RETURNING j.id INTO new_id;
        RETURN new_id;
    END IF;
    INSERT INTO porter.jobs AS j
        (job_id, method, queue, args, status, priority, at_front, max_attempts, timeout, run_at,
         depends_on, ended_at, error)
    VALUES (enqueue.job_id, enqueue.method, enqueue.queue, coalesce(enqueue.args, '{}'),
            CASE WHEN dead_parent IS NOT NULL THEN 'canceled'
                 WHEN waiting THEN 'deferred'
                 WHEN enqueue.run_at > now() THEN 'scheduled' ELSE 'queued' END,
            coalesce(enqueue.priority, 0), coalesce(enqueue.at_front, false), enqueue.max_attempts,
            enqueue.timeout, coalesce(enqueue.run_at, now()), nullif(enqueue.depends_on, '{}'),
            CASE WHEN dead_parent IS NOT NULL THEN now() END,
            CASE WHEN dead_parent IS NOT NULL THEN porter.dependency_error(dead_parent, dead_method, dead_status) END)
    ON CONFLICT (job_id) WHERE job_id IS NOT NULL AND status IN ('queued', 'scheduled', 'started', 'deferred') DO NOTHING
    RETURNING j.id INTO new_id;
    IF new_id IS NULL AND NOT coalesce(enqueue.deduplicate, false) THEN
        PERFORM porter.raise_duplicate_job_id(enqueue.job_id);
    END IF;
    RETURN new_id;
END
$$;
