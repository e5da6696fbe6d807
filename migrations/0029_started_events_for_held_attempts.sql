-- 0029: porter.end_attempts sends a `started` event only for an attempt the worker still
-- holds (issue 21: every job's started and its end, in order).
--
-- The worker sends a claimed job's `started` event with the next batch of ends, in the same
-- statement. When that statement committed but its answer was lost with the connection (a
-- PgBouncer KILL, a failover), the worker sent it again, as it must for the ends, and the
-- `started` events went out a second time, after the jobs' ends: `porter watch`, the
-- dashboard and RealtimeListener saw a finished job start again. Now an event goes out only
-- while the job is still started by that worker in that attempt, which is always the case
-- the first time (the claim committed, and the end is written after the event). Otherwise
-- the function is 0028's.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION porter.end_attempts(worker_id text, started jsonb, outcomes jsonb, job_events boolean) RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET enable_hashjoin = off
SET enable_mergejoin = off
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_indexscan = on
SET enable_nestloop = on
AS $$
DECLARE
    changed bigint[];
    ended bigint[];
    queues text[];
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
        -- Only for attempts this worker still holds: a retry of a call that committed, its
        -- answer lost, finds them ended, and sends no second `started` after their end. One
        -- probe of jobs_pkey per event, written as the UPDATE below is (status from `was`,
        -- the worker compared with IS NOT DISTINCT FROM) so that no partial index matches.
        SELECT count(pg_notify('porter_realtime', porter.job_event_payload(s.id, 'started', s.method, s.queue, s.attempt, NULL)))
        INTO sent
        FROM jsonb_to_recordset(started) AS s(id bigint, method text, queue text, attempt integer, was text)
        WHERE EXISTS (SELECT FROM porter.jobs j
                      WHERE j.id = s.id AND j.status = coalesce(s.was, 'started')
                        AND j.worker_id IS NOT DISTINCT FROM end_attempts.worker_id AND j.attempts = s.attempt);
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
             AS o(id bigint, attempt integer, status text, result jsonb, error text, retry_in float8, orphaned boolean,
                  was text)
        -- One probe of jobs_pkey per outcome: j.id = o.id is the only condition an index can
        -- serve. The worker is compared with IS NOT DISTINCT FROM, which no index serves,
        -- and the status with the one each outcome expects (o.was, which no caller sends:
        -- 'started'), so that the statement implies no partial index's predicate. Served by
        -- jobs_started_worker_idx, it walked every entry this worker had left there since
        -- the last vacuum, with a bitmap scan, which never marks them dead.
        WHERE j.id = o.id AND j.status = coalesce(o.was, 'started') AND j.worker_id IS NOT DISTINCT FROM end_attempts.worker_id
          AND j.attempts = o.attempt
        RETURNING j.id, j.status, j.method, j.queue, j.attempts, j.error
    )
    SELECT array_agg(u.id),
           array_agg(u.id) FILTER (WHERE u.status IN ('finished', 'failed', 'canceled')),
           array_agg(DISTINCT u.queue),
           count(CASE WHEN job_events THEN pg_notify('porter_realtime',
                 porter.job_event_payload(u.id, u.status, u.method, u.queue, u.attempts, u.error)) END)
    INTO changed, ended, queues, sent
    FROM updated u;
    PERFORM set_config('porter.worker_statement', coalesce(previous, ''), true);
    -- Places freed in limited queues: their workers claim again now.
    IF queues IS NOT NULL AND EXISTS (SELECT FROM porter.queue_limits l WHERE l.queue = ANY(queues)) THEN
        PERFORM pg_notify('porter_enqueue', l.queue) FROM (SELECT DISTINCT l.queue FROM porter.queue_limits l WHERE l.queue = ANY(queues)) AS l;
    END IF;
    -- Nothing is deferred, the usual case: one probe of jobs_deferred_idx and no call.
    IF ended IS NOT NULL AND EXISTS (SELECT FROM porter.jobs WHERE status = 'deferred') THEN
        PERFORM porter.release_dependants_of(ended);
    END IF;
    RETURN QUERY SELECT unnest(changed);
END
$$;
