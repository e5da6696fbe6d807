-- 0006: job dependencies. porter.enqueue gains depends_on bigint[]: such a job waits, with
-- status 'deferred' (RQ's word for it), until every parent has finished. When a parent fails
-- or is canceled, the dependant is canceled with an error naming the parent, and so are its
-- own dependants in turn.
--
-- Race-free in both directions. An enqueue locks the parents FOR SHARE, so a parent cannot
-- end between the enqueue's check and its commit: the parent's UPDATE waits, and its trigger
-- then sees the new dependant. The release trigger locks the dependants before it reads their
-- parents, so two parents ending at once in two transactions cannot both miss the other.

ALTER TABLE porter.jobs ADD COLUMN depends_on bigint[];

ALTER TABLE porter.jobs
    DROP CONSTRAINT jobs_status_valid,
    ADD CONSTRAINT jobs_status_valid
        CHECK (status IN ('queued', 'scheduled', 'started', 'finished', 'failed', 'canceled', 'deferred'));

-- A deferred job is active: its job_id blocks a duplicate like a queued one does.
DROP INDEX porter.jobs_job_id_active_key;
CREATE UNIQUE INDEX jobs_job_id_active_key ON porter.jobs (job_id)
    WHERE job_id IS NOT NULL AND status IN ('queued', 'scheduled', 'started', 'deferred');

-- The release trigger's lookups: the deferred jobs waiting on given parents. Only deferred
-- jobs have entries, so ordinary jobs cost these indexes nothing.
CREATE INDEX jobs_deferred_depends_on_idx ON porter.jobs USING gin (depends_on) WHERE status = 'deferred';
-- Its early exit: "is anything deferred at all?" is one probe of an (almost always) empty index.
CREATE INDEX jobs_deferred_idx ON porter.jobs (id) WHERE status = 'deferred';

-- Checks and locks a new job's parents. waiting: some parent has not finished yet.
-- dead_parent/dead_status: the first parent that failed or was canceled, if any.
-- A parent that does not exist is an error. Served by jobs_pkey.
CREATE FUNCTION porter.lock_parents(parents bigint[], OUT waiting boolean, OUT dead_parent bigint, OUT dead_status text, OUT dead_method text)
LANGUAGE plpgsql AS $$
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

-- The error a dependant is canceled with when a parent did not finish.
CREATE FUNCTION porter.dependency_error(parent bigint, parent_method text, parent_status text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT format('canceled: job %s (%s), which this job depends on, %s', parent, parent_method, parent_status)
$$;

-- porter.enqueue with depends_on, a superset of 0002's signature: calls by position or by
-- name keep working. Same checks, same dedup (served by jobs_job_id_active_key).
DROP FUNCTION porter.enqueue(text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer);
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
    max_attempts integer     DEFAULT NULL,
    depends_on   bigint[]    DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    new_id bigint;
    parents record;
BEGIN
    -- Parameters are qualified with the function's name: they share names with columns.
    PERFORM porter.check_enqueue(enqueue.method, enqueue.args, enqueue.queue, enqueue.job_id,
                                 enqueue.deduplicate, enqueue.timeout, enqueue.max_attempts);
    parents := porter.lock_parents(enqueue.depends_on);
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

-- porter.enqueue_many with a depends_on key per element (a JSON array of ids). Elements
-- without it take the set-based path of 0002; those with it go through porter.enqueue one by
-- one, since each locks its own parents.
CREATE OR REPLACE FUNCTION porter.enqueue_many(jobs jsonb)
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
               x.priority, x.max_attempts, x.run_at, x.delay,
               CASE WHEN jsonb_typeof(e.spec -> 'depends_on') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(e.spec -> 'depends_on')::bigint) END AS depends_on,
               -- A missing queue key means 'default'; an explicit null is refused.
               CASE WHEN e.spec ? 'queue' THEN x.queue ELSE 'default' END AS queue
        FROM jsonb_array_elements(jobs) WITH ORDINALITY AS e(spec, ord)
        CROSS JOIN LATERAL jsonb_to_record(e.spec) AS x(
            method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean,
            timeout integer, run_at timestamptz, delay double precision, priority integer, max_attempts integer)
    ), plain AS MATERIALIZED (
        SELECT i.*,
               coalesce(i.run_at, now() + make_interval(secs => coalesce(i.delay, 0))) AS effective_run_at,
               nextval(pg_get_serial_sequence('porter.jobs', 'id')) AS new_id,
               porter.check_enqueue(i.method, i.args, i.queue, i.job_id, i.deduplicate, i.timeout, i.max_attempts) AS valid
        FROM input i WHERE coalesce(cardinality(i.depends_on), 0) = 0
    ), inserted AS (
        INSERT INTO porter.jobs AS j
            (id, job_id, method, queue, args, status, priority, at_front, max_attempts, timeout, run_at)
        SELECT p.new_id, p.job_id, p.method, p.queue, coalesce(p.args, '{}'),
               CASE WHEN p.effective_run_at > now() THEN 'scheduled' ELSE 'queued' END,
               coalesce(p.priority, 0), coalesce(p.at_front, false), p.max_attempts, p.timeout,
               p.effective_run_at
        FROM plain p
        ORDER BY p.ord
        ON CONFLICT (job_id) WHERE job_id IS NOT NULL AND status IN ('queued', 'scheduled', 'started', 'deferred') DO NOTHING
        RETURNING j.id
    ), dependants AS (
        SELECT i.ord,
               porter.enqueue(i.method, i.args, i.queue, i.job_id, i.deduplicate, i.at_front, i.timeout,
                              coalesce(i.run_at, now() + make_interval(secs => coalesce(i.delay, 0))),
                              i.priority, i.max_attempts, i.depends_on) AS id
        FROM input i WHERE cardinality(i.depends_on) > 0
    )
    SELECT p.ord,
           CASE WHEN ins.id IS NULL AND NOT coalesce(p.deduplicate, false)
                THEN porter.raise_duplicate_job_id(p.job_id)
                ELSE ins.id END
    FROM plain p
    LEFT JOIN inserted ins ON ins.id = p.new_id
    UNION ALL
    SELECT d.ord, d.id FROM dependants d
    ORDER BY 1;
END
$$;

-- Releases or cancels the deferred dependants of jobs that just ended. Runs once per UPDATE
-- statement on porter.jobs, like the status events of 0005.
CREATE FUNCTION porter.release_dependants() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ended bigint[];
    woken bigint;
BEGIN
    -- Nothing is deferred: the common case costs one probe of jobs_deferred_idx.
    PERFORM 1 FROM porter.jobs WHERE status = 'deferred' LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT array_agg(n.id) INTO ended
    FROM changed_new n JOIN changed_old o ON o.id = n.id
    WHERE n.status IN ('finished', 'failed', 'canceled') AND o.status IS DISTINCT FROM n.status;
    IF ended IS NULL THEN
        RETURN NULL;
    END IF;
    -- Lock the waiting dependants first (in id order; served by jobs_deferred_depends_on_idx):
    -- a concurrent release of the same dependant waits here, and its next statement's fresh
    -- snapshot sees this transaction's parents as ended.
    PERFORM 1 FROM porter.jobs d WHERE d.status = 'deferred' AND d.depends_on && ended ORDER BY d.id FOR UPDATE;
    -- A parent failed or was canceled: cancel the dependant, naming the parent. This UPDATE
    -- fires the trigger again, which cancels the dependant's own dependants.
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
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_release_dependants
    AFTER UPDATE ON porter.jobs
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION porter.release_dependants();
