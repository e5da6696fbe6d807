-- 0018: the worker's own claims and completions pay for no trigger (issue 13).
--
-- porter.jobs had two statement-level AFTER UPDATE triggers with transition tables (0005's
-- job-state events, 0006's dependant release). PostgreSQL fills transition tables for every
-- UPDATE of the table, whatever the trigger functions then do, and both functions ran their
-- query through EXECUTE, parsed and planned anew each time: every claim and every completion
-- paid for them, with job events off too.
--
-- Now:
-- - The status trigger is row-level, with a WHEN clause that skips a status change made by a
--   worker's own statement (porter.worker_statement = 'on', which that statement sets for its
--   transaction, or porter.end_attempts for the span of its UPDATE). A row trigger whose WHEN
--   is false queues nothing, and row triggers need no transition tables. Every other writer
--   (porter cancel and retry, the rescue, a bulk action, an UPDATE by hand) gets the same
--   events and the same release as before, a row at a time.
-- - A worker ends attempts with porter.end_attempts, which makes the change its UPDATE made,
--   sends the same job-state events (in the same payloads, porter.job_event_payload) from the
--   rows it changed, and releases their dependants with the code the trigger runs, in the same
--   transaction. It also sends the `started` events of attempts claimed since the last call
--   first, so a busy worker's events and outcomes take one round trip.
--
-- Rights (migration 0013): every function pins its search_path and none is left to PUBLIC.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

-- Releases (or cancels) the deferred dependants of the jobs `ended`, as 0010's trigger did:
-- locks them first, in id order, so that a concurrent release of the same dependant waits and
-- then sees this transaction's parents as ended. Served by jobs_deferred_idx and
-- jobs_deferred_depends_on_idx.
CREATE FUNCTION porter.release_dependants_of(ended bigint[]) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
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

-- One row's status change by a writer other than a worker's own statement: its job-state
-- event on porter_realtime (unless porter.job_events is off) and, when it ended, its
-- dependants' release.
CREATE FUNCTION porter.job_status_changed() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF current_setting('porter.job_events', true) IS DISTINCT FROM 'off' THEN
        PERFORM pg_notify('porter_realtime', porter.job_event_payload(NEW.id, NEW.status, NEW.method, NEW.queue, NEW.attempts, NEW.error));
    END IF;
    IF NEW.status IN ('finished', 'failed', 'canceled') THEN
        PERFORM porter.release_dependants_of(ARRAY[NEW.id]);
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER jobs_notify_status_changed ON porter.jobs;
DROP TRIGGER jobs_release_dependants ON porter.jobs;
DROP FUNCTION porter.notify_status_changed();
DROP FUNCTION porter.release_dependants();

CREATE TRIGGER jobs_status_changed
    AFTER UPDATE OF status ON porter.jobs
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          AND pg_catalog.current_setting('porter.worker_statement', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION porter.job_status_changed();

-- Ends attempts of `worker_id`'s jobs, one per element of `outcomes` ({"id", "attempt",
-- "status", "result", "error", "retry_in", "orphaned"}), each only while the job is still
-- started by that worker in that attempt: the worker's one statement for every way an attempt
-- ends (JobRunQueries.endAttempts). First sends the `started` events of `started` ({"id",
-- "attempt", "method", "queue"}, attempts this worker claimed), then each changed job's state
-- event when `job_events`, then releases the dependants of the jobs that ended. Returns the
-- ids it changed. Served by jobs_started_worker_idx (the worker's started jobs) or jobs_pkey,
-- as the planner chooses; locks the rows it changes in id order (the caller sorts `outcomes`),
-- the order in which an enqueue with depends_on locks its parents.
CREATE FUNCTION porter.end_attempts(worker_id text, started jsonb, outcomes jsonb, job_events boolean) RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    changed bigint[];
    ended bigint[];
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
        SELECT count(pg_notify('porter_realtime', porter.job_event_payload(s.id, 'started', s.method, s.queue, s.attempt, NULL)))
        INTO sent
        FROM jsonb_to_recordset(started) AS s(id bigint, method text, queue text, attempt integer);
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
             AS o(id bigint, attempt integer, status text, result jsonb, error text, retry_in float8, orphaned boolean)
        WHERE j.id = o.id AND j.status = 'started' AND j.worker_id = end_attempts.worker_id AND j.attempts = o.attempt
        RETURNING j.id, j.status, j.method, j.queue, j.attempts, j.error
    )
    SELECT array_agg(u.id),
           array_agg(u.id) FILTER (WHERE u.status IN ('finished', 'failed', 'canceled')),
           count(CASE WHEN job_events THEN pg_notify('porter_realtime',
                 porter.job_event_payload(u.id, u.status, u.method, u.queue, u.attempts, u.error)) END)
    INTO changed, ended, sent
    FROM updated u;
    PERFORM set_config('porter.worker_statement', coalesce(previous, ''), true);
    -- Nothing is deferred, the usual case: one probe of jobs_deferred_idx and no call.
    IF ended IS NOT NULL AND EXISTS (SELECT FROM porter.jobs WHERE status = 'deferred') THEN
        PERFORM porter.release_dependants_of(ended);
    END IF;
    RETURN QUERY SELECT unnest(changed);
END
$$;

REVOKE ALL ON FUNCTION porter.release_dependants_of(bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION porter.job_status_changed() FROM PUBLIC;
REVOKE ALL ON FUNCTION porter.end_attempts(text, jsonb, jsonb, boolean) FROM PUBLIC;

-- A worker ends its attempts through end_attempts, which releases dependants.
INSERT INTO porter.privileges (kind, privilege, object) VALUES
    ('worker', 'EXECUTE', 'FUNCTION porter.end_attempts(text, jsonb, jsonb, boolean)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.release_dependants_of(bigint[])');
SELECT porter.refresh_grants();
