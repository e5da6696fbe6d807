-- 0014: no row the worker cannot resolve can be stored, whoever writes it; and a database
-- migrated with the first texts of migrations that were edited after they shipped gets the
-- schema a fresh one has.
--
-- The enqueue functions refused bad input, but a plain INSERT stored jobs that never end: a
-- deferred job with no parents (nothing ever releases it), a job with run_at infinity (never
-- due), a finished job with no ended_at (never pruned), a negative orphaned count (which
-- defeats the poison count), errors that are not an array, args, methods, queues and job_ids
-- over the limits of porter.settings. These are now table constraints, and a deferred job
-- written directly is checked against its parents as an enqueue checks it.
--
-- Rows already stored are fixed first, each rule as said below, then the constraints are
-- added and checked against every row. The limit constraints are the exception: a finished,
-- failed or canceled job over a limit is history and is kept as it is, so those constraints
-- stay NOT VALID until no such row is left (every new or changed row is still checked;
-- ALTER TABLE porter.jobs VALIDATE CONSTRAINT marks them valid once the old rows are pruned).
-- A waiting or running job over a limit is failed, since its next update would be refused.
--
-- Migrations 0001, 0002, 0005 and 0006 were edited after they had been published. A database
-- that applied their first texts kept the index jobs_status_enqueued_at_idx (written on every
-- status change, never used) and never got the status trigger jobs_notify_status_changed, so it
-- sent no job state events; 0013 replaced the functions whose bodies differed.

SET LOCAL search_path = pg_catalog, pg_temp;

-- Each rule's existing rows, fixed.

-- NULL parents name no job, and a job cannot wait for itself: both are dropped from depends_on.
UPDATE porter.jobs SET depends_on = nullif(array_remove(array_remove(depends_on, NULL), id), '{}')
WHERE array_position(depends_on, NULL) IS NOT NULL OR id = ANY(depends_on);

-- A deferred job with no parent left waits for nothing: it is queued (scheduled for a future
-- run_at), as if its parents had finished.
UPDATE porter.jobs SET status = CASE WHEN run_at > now() THEN 'scheduled' ELSE 'queued' END
WHERE status = 'deferred' AND coalesce(cardinality(depends_on), 0) = 0;

-- A deferred job written into the table after its parents had ended waits for an end that
-- already happened. As the release trigger would have done (migration 0006): canceled, naming
-- the parent, when one failed or was canceled; else queued. A parent that is gone was pruned
-- after it ended.
WITH stranded AS (
    SELECT d.id,
           (SELECT p.id FROM porter.jobs p
            WHERE p.id = ANY(d.depends_on) AND p.status IN ('failed', 'canceled') ORDER BY p.id LIMIT 1) AS dead_parent
    FROM porter.jobs d
    WHERE d.status = 'deferred'
      AND NOT EXISTS (SELECT 1 FROM porter.jobs p
                      WHERE p.id = ANY(d.depends_on) AND p.status IN ('queued', 'scheduled', 'started', 'deferred'))
)
UPDATE porter.jobs AS d
SET status = CASE WHEN p.id IS NOT NULL THEN 'canceled' WHEN d.run_at > now() THEN 'scheduled' ELSE 'queued' END,
    ended_at = CASE WHEN p.id IS NOT NULL THEN now() END,
    error = CASE WHEN p.id IS NOT NULL THEN porter.dependency_error(p.id, p.method, p.status) ELSE d.error END,
    errors = CASE WHEN p.id IS NULL THEN d.errors
                  ELSE CASE WHEN jsonb_typeof(d.errors) = 'array' THEN d.errors ELSE '[]' END || jsonb_build_array(jsonb_build_object(
                      'attempt', d.attempts, 'error', porter.dependency_error(p.id, p.method, p.status), 'at', now())) END
FROM stranded s LEFT JOIN porter.jobs p ON p.id = s.dead_parent
WHERE d.id = s.id;

-- A waiting job with run_at infinity would never run: it is canceled, saying why. Any other
-- run_at that is not finite becomes the job's enqueued_at (or now).
UPDATE porter.jobs
SET status = 'canceled', ended_at = now(), worker_id = NULL,
    error = 'canceled by migration 0014: its run_at was infinity, so it would never have run',
    errors = CASE WHEN jsonb_typeof(errors) = 'array' THEN errors ELSE '[]' END || jsonb_build_array(jsonb_build_object(
        'attempt', attempts, 'error', 'canceled by migration 0014: its run_at was infinity, so it would never have run', 'at', now()))
WHERE status IN ('queued', 'scheduled', 'deferred') AND run_at = 'infinity';
UPDATE porter.jobs SET run_at = CASE WHEN isfinite(enqueued_at) THEN enqueued_at ELSE now() END
WHERE NOT isfinite(run_at);

-- A waiting or running job over a limit is failed, saying which limit, before a claim or a
-- completion would be refused on it. Its dependants are canceled by the release trigger.
WITH limits AS (SELECT * FROM porter.settings),
over AS (
    SELECT j.id,
           CASE WHEN octet_length(j.method) > l.max_method_bytes
                    THEN format('its method is %s bytes, over the limit of %s', octet_length(j.method), l.max_method_bytes)
                WHEN octet_length(j.queue) > l.max_queue_bytes
                    THEN format('its queue is %s bytes, over the limit of %s', octet_length(j.queue), l.max_queue_bytes)
                WHEN octet_length(j.job_id) > l.max_job_id_bytes
                    THEN format('its job_id is %s bytes, over the limit of %s', octet_length(j.job_id), l.max_job_id_bytes)
                ELSE format('its args are %s bytes, over the limit of %s', pg_column_size(j.args), l.max_args_bytes)
           END AS reason
    FROM porter.jobs j CROSS JOIN limits l
    WHERE j.status IN ('queued', 'scheduled', 'deferred', 'started')
      AND (octet_length(j.method) > l.max_method_bytes OR octet_length(j.queue) > l.max_queue_bytes
           OR octet_length(j.job_id) > l.max_job_id_bytes OR pg_column_size(j.args) > l.max_args_bytes)
)
UPDATE porter.jobs AS j
SET status = 'failed', ended_at = now(), worker_id = NULL, cancel_requested_at = NULL,
    error = 'failed by migration 0014: ' || over.reason,
    errors = CASE WHEN jsonb_typeof(j.errors) = 'array' THEN j.errors ELSE '[]' END || jsonb_build_array(jsonb_build_object(
        'attempt', j.attempts, 'error', 'failed by migration 0014: ' || over.reason, 'at', now()))
FROM over WHERE j.id = over.id;

-- ended_at is set exactly when a job has ended: an ended job without it (or with one that is
-- not finite) ended now, as far as pruning goes; a job that has not ended has none.
UPDATE porter.jobs SET ended_at = now()
WHERE status IN ('finished', 'failed', 'canceled') AND (ended_at IS NULL OR NOT isfinite(ended_at));
UPDATE porter.jobs SET ended_at = NULL
WHERE status NOT IN ('finished', 'failed', 'canceled') AND ended_at IS NOT NULL;

-- A negative rescue count becomes 0.
UPDATE porter.jobs SET orphaned = 0 WHERE orphaned < 0;

-- errors that are not an array are kept, as the one element of an array.
UPDATE porter.jobs SET errors = jsonb_build_array(errors) WHERE jsonb_typeof(errors) <> 'array';

-- The rules. One ALTER TABLE, so the rows are read once for all the validated ones.
ALTER TABLE porter.jobs
    -- Released only when a parent ends, so a deferred job must have one.
    ADD CONSTRAINT jobs_deferred_has_parents CHECK (status <> 'deferred' OR coalesce(cardinality(depends_on), 0) > 0),
    ADD CONSTRAINT jobs_depends_on_no_nulls CHECK (array_position(depends_on, NULL) IS NULL),
    ADD CONSTRAINT jobs_depends_on_not_self CHECK (NOT id = ANY(depends_on)),
    -- A job due at infinity is never due.
    ADD CONSTRAINT jobs_run_at_finite CHECK (isfinite(run_at)),
    -- Pruning and porter watch read ended_at; a job that has not ended must not look ended.
    ADD CONSTRAINT jobs_ended_at_when_ended CHECK ((status IN ('finished', 'failed', 'canceled')) = (ended_at IS NOT NULL)),
    ADD CONSTRAINT jobs_ended_at_finite CHECK (isfinite(ended_at)),
    -- The poison count only counts up from 0.
    ADD CONSTRAINT jobs_orphaned_not_negative CHECK (orphaned >= 0),
    -- Every attempt's error is appended to this array.
    ADD CONSTRAINT jobs_errors_is_array CHECK (jsonb_typeof(errors) = 'array');

-- The limits of porter.settings, as constraints porter.set_limit replaces when a limit
-- changes. Validated below when no stored row is over them.
DO $$
DECLARE
    limits porter.settings;
BEGIN
    SELECT * INTO STRICT limits FROM porter.settings;
    EXECUTE format($f$
        ALTER TABLE porter.jobs
            ADD CONSTRAINT jobs_method_within_limit CHECK (octet_length(method) <= %s) NOT VALID,
            ADD CONSTRAINT jobs_queue_within_limit CHECK (octet_length(queue) <= %s) NOT VALID,
            ADD CONSTRAINT jobs_job_id_within_limit CHECK (octet_length(job_id) <= %s) NOT VALID,
            ADD CONSTRAINT jobs_args_within_limit CHECK (pg_column_size(args) <= %s) NOT VALID
        $f$, limits.max_method_bytes, limits.max_queue_bytes, limits.max_job_id_bytes, limits.max_args_bytes);
    IF NOT EXISTS (SELECT 1 FROM porter.jobs WHERE octet_length(method) > limits.max_method_bytes) THEN
        ALTER TABLE porter.jobs VALIDATE CONSTRAINT jobs_method_within_limit;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM porter.jobs WHERE octet_length(queue) > limits.max_queue_bytes) THEN
        ALTER TABLE porter.jobs VALIDATE CONSTRAINT jobs_queue_within_limit;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM porter.jobs WHERE octet_length(job_id) > limits.max_job_id_bytes) THEN
        ALTER TABLE porter.jobs VALIDATE CONSTRAINT jobs_job_id_within_limit;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM porter.jobs WHERE pg_column_size(args) > limits.max_args_bytes) THEN
        ALTER TABLE porter.jobs VALIDATE CONSTRAINT jobs_args_within_limit;
    END IF;
END
$$;

-- A deferred job is released only when a parent ends, so one written into the table directly
-- (porter.enqueue locks and checks its parents itself) is checked as an enqueue checks it: its
-- parents are locked (so none ends unseen before it commits) and one that does not exist is
-- refused; when none is still waiting or running it is queued, or canceled naming a parent that
-- failed, at once. A row trigger with a WHEN clause: for any other row, the trigger costs one
-- comparison and is never called.
CREATE FUNCTION porter.release_inserted_dependant() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
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

REVOKE ALL ON FUNCTION porter.release_inserted_dependant() FROM PUBLIC;

CREATE TRIGGER jobs_release_inserted_dependant
    AFTER INSERT ON porter.jobs
    FOR EACH ROW WHEN (NEW.status = 'deferred') EXECUTE FUNCTION porter.release_inserted_dependant();

-- The first texts of 0001 and 0005, brought to what the current ones create.
DROP INDEX IF EXISTS porter.jobs_status_enqueued_at_idx;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'porter.jobs'::regclass AND tgname = 'jobs_notify_status_changed') THEN
        CREATE TRIGGER jobs_notify_status_changed
            AFTER UPDATE ON porter.jobs
            REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
            FOR EACH STATEMENT EXECUTE FUNCTION porter.notify_status_changed();
    END IF;
END
$$;
