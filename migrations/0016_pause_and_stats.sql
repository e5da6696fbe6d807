-- 0016: pausing queues, and the figures `porter stats` shows.
--
-- Pause. A paused queue is a row in porter.paused_queues, so the pause survives restarts and
-- holds for every worker. Every claim checks it (porter.queue_is_paused, one primary-key
-- probe per claim statement, not per job), so a worker takes no job of a paused queue from
-- the moment the pause commits; jobs already running finish. Enqueueing is still accepted.
-- Resuming sends porter_enqueue with the queue's name, so idle workers claim at once instead
-- of at their next poll. Both send a realtime event (queue_paused, queue_resumed).
--
-- Stats. Counts of waiting, running and failed jobs come from the partial indexes that serve
-- them: jobs_claim_idx for queued and scheduled jobs (queue and run_at are in it, so one
-- index-only pass gives both counts and the oldest runnable job), jobs_started_worker_idx,
-- jobs_deferred_idx, and jobs_failed_queue_idx below. Nothing reads the finished history.
-- Throughput and the wait and run percentiles come from the workers themselves: each keeps
-- the last minute's finished count and the last five minutes' wait and run times per queue, as
-- histograms, and writes them into porter.workers.stats at every heartbeat; porter.stats()
-- adds up the live workers' figures. So no job's completion writes anything more, and the
-- figures cost the same with a million finished rows as with none.
--
-- Rights (migration 0013): every function pins its search_path and none is left to PUBLIC.
-- A worker's role claims (porter.queue_is_paused) and, as it may retry and cancel, pauses and
-- resumes; a reader's role reads porter.stats() and which queues are paused.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

CREATE TABLE porter.paused_queues (
    queue     text        NOT NULL,
    paused_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT paused_queues_pkey PRIMARY KEY (queue)
);

COMMENT ON TABLE porter.paused_queues IS 'Queues whose jobs no worker claims until porter.resume_queue (see README, Pause and resume).';

-- Whether a queue is paused. SECURITY DEFINER, so that a worker's role needs no right on
-- the table to claim; it reveals one boolean. Served by paused_queues_pkey.
CREATE FUNCTION porter.queue_is_paused(queue text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM porter.paused_queues p WHERE p.queue = queue_is_paused.queue)
$$;

-- Refuses a NULL or empty queue name, as porter.enqueue does.
-- SECURITY DEFINER to read porter.settings (the limits), which only the schema's owner may.
CREATE FUNCTION porter.check_queue_name(queue text, caller text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    limits porter.settings := porter.effective_settings();
BEGIN
    IF queue IS NULL OR btrim(queue) = '' THEN
        RAISE EXCEPTION '%: queue must be a non-empty name', caller
            USING ERRCODE = CASE WHEN queue IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END,
                  COLUMN = 'queue', HINT = format('name the queue, e.g. %s(''default'')', caller);
    END IF;
    -- A name no job can have (porter.enqueue refuses it), and one too long for the primary key.
    IF octet_length(queue) > limits.max_queue_bytes THEN
        RAISE EXCEPTION '%: queue is % bytes, over the limit of % bytes', caller, octet_length(queue), limits.max_queue_bytes
            USING ERRCODE = 'program_limit_exceeded', COLUMN = 'queue',
                  HINT = 'no job can be enqueued on such a queue; the schema''s owner may raise the limit with SELECT porter.set_limit(''max_queue_bytes'', n)';
    END IF;
END
$$;

-- Pauses a queue: no worker claims its jobs until it is resumed. Returns false when it was
-- paused already. Jobs can still be enqueued; running ones finish.
CREATE FUNCTION porter.pause_queue(queue text) RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    changed integer;
BEGIN
    PERFORM porter.check_queue_name(pause_queue.queue, 'porter.pause_queue');
    INSERT INTO porter.paused_queues AS p (queue) VALUES (pause_queue.queue) ON CONFLICT ON CONSTRAINT paused_queues_pkey DO NOTHING;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed > 0 THEN
        PERFORM porter.publish_realtime('queue_paused', jsonb_build_object('queue', pause_queue.queue), NULL);
    END IF;
    RETURN changed > 0;
END
$$;

-- Resumes a paused queue and wakes its workers. Returns false when it was not paused.
CREATE FUNCTION porter.resume_queue(queue text) RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    changed integer;
BEGIN
    PERFORM porter.check_queue_name(resume_queue.queue, 'porter.resume_queue');
    DELETE FROM porter.paused_queues p WHERE p.queue = resume_queue.queue;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed > 0 THEN
        PERFORM pg_notify('porter_enqueue', resume_queue.queue);
        PERFORM porter.publish_realtime('queue_resumed', jsonb_build_object('queue', resume_queue.queue), NULL);
    END IF;
    RETURN changed > 0;
END
$$;

-- What each worker reports at every heartbeat:
-- {"rescue_after": 20, "queues": {"default": {"slots": 8, "busy": 3,
--  "finished": 120, "wait": {"<bucket>": n, ...}, "run": {...}}}}. finished counts the last
-- minute; wait and run are histograms of the last five minutes (porter.stats_bucket_seconds).
ALTER TABLE porter.workers ADD COLUMN stats jsonb NOT NULL DEFAULT '{}';

-- Failed jobs per queue by age: the failure counts of porter.stats(), and bulk retries and
-- deletes of one queue's failures. Only failed row versions have entries, so completions
-- that finish cost it nothing.
CREATE INDEX jobs_failed_queue_idx ON porter.jobs (queue, ended_at) WHERE status = 'failed';

-- The seconds a histogram bucket stands for. Bucket k holds times from 0.1 ms * 2^(k/8) up
-- to the next bucket (bucket 0 also holds anything shorter), so a percentile read from the
-- buckets is within 9 % of the true one; this returns the bucket's geometric middle. The
-- worker's side of the same rule is WorkerStatistics.bucket(seconds:). A SQL-standard body,
-- bound to the built-ins at creation (as in migration 0013).
CREATE FUNCTION porter.stats_bucket_seconds(bucket integer) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 0.0001 * power(2, (bucket + 0.5) / 8.0);

-- Per queue: waiting jobs (queued: may run now; scheduled: waiting for a future run_at; the
-- two status words of waiting jobs are counted by run_at, so a retry whose backoff is over
-- counts as queued), deferred and started jobs, failures in the last hour and day, the age
-- of the oldest job that may run now (lag), whether the queue is paused, and from the live
-- workers: jobs finished in the last minute, wait (from run_at, or the enqueue, to the
-- start) and run percentiles over the last five minutes, and their slots. Queues appear when
-- they have waiting, running, deferred or recently failed jobs, are paused, or are served by
-- a live worker. A worker is live while its last heartbeat is more recent than its
-- rescue_after. SECURITY DEFINER, so a role that may read nothing else of Porter's can
-- read the figures; they name queues and count jobs, nothing more. Without JIT and without
-- parallel workers: with a million rows in porter.jobs the plan's estimated cost passes
-- jit_above_cost, and compiling it took 2 s on a busy 2-core machine for a statement that
-- runs in 50 ms; and starting parallel workers to count a queue's index took longer than
-- counting it, on a server whose cores the workers' claims need.
CREATE FUNCTION porter.stats() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET max_parallel_workers_per_gather = 0 AS $$
    WITH waiting AS (
        -- One index-only pass over jobs_claim_idx.
        SELECT j.queue,
               count(*) FILTER (WHERE j.run_at <= now()) AS queued,
               count(*) FILTER (WHERE j.run_at > now()) AS scheduled,
               min(j.run_at) FILTER (WHERE j.run_at <= now()) AS oldest
        FROM porter.jobs j WHERE j.status IN ('queued', 'scheduled') GROUP BY j.queue
    ), started AS (
        -- jobs_started_worker_idx: at most one row per busy slot.
        SELECT j.queue, count(*) AS n FROM porter.jobs j WHERE j.status = 'started' GROUP BY j.queue
    ), deferred AS (
        -- jobs_deferred_idx.
        SELECT j.queue, count(*) AS n FROM porter.jobs j WHERE j.status = 'deferred' GROUP BY j.queue
    ), failed AS (
        -- jobs_failed_queue_idx.
        SELECT j.queue, count(*) FILTER (WHERE j.ended_at >= now() - interval '1 hour') AS last_hour, count(*) AS last_day
        FROM porter.jobs j WHERE j.status = 'failed' AND j.ended_at >= now() - interval '1 day' GROUP BY j.queue
    ), alive AS (
        SELECT w.queues, w.stats FROM porter.workers w
        WHERE w.heartbeat_at >= now() - make_interval(secs => coalesce((w.stats->>'rescue_after')::float8, 20))
    ), reported AS (
        SELECT q.key AS queue, q.value AS figures FROM alive a CROSS JOIN LATERAL jsonb_each(a.stats->'queues') AS q
    ), served AS (
        SELECT r.queue, sum((r.figures->>'slots')::bigint) AS slots, sum((r.figures->>'busy')::bigint) AS busy,
               sum((r.figures->>'finished')::bigint) AS finished
        FROM reported r GROUP BY r.queue
    ), buckets AS (
        SELECT r.queue, k.kind, b.key::integer AS bucket, sum(b.value::bigint) AS n
        FROM reported r
        CROSS JOIN (VALUES ('wait'), ('run')) AS k(kind)
        CROSS JOIN LATERAL jsonb_each_text(coalesce(r.figures->k.kind, '{}')) AS b
        GROUP BY r.queue, k.kind, b.key::integer
    ), percentiles AS (
        SELECT c.queue, c.kind,
               round(porter.stats_bucket_seconds(min(c.bucket) FILTER (WHERE c.below >= 0.50 * c.total))::numeric, 4) AS p50,
               round(porter.stats_bucket_seconds(min(c.bucket) FILTER (WHERE c.below >= 0.95 * c.total))::numeric, 4) AS p95
        FROM (SELECT b.queue, b.kind, b.bucket,
                     sum(b.n) OVER (PARTITION BY b.queue, b.kind ORDER BY b.bucket) AS below,
                     sum(b.n) OVER (PARTITION BY b.queue, b.kind) AS total
              FROM buckets b) AS c
        GROUP BY c.queue, c.kind
    ), names AS (
        SELECT queue FROM waiting
        UNION SELECT queue FROM started
        UNION SELECT queue FROM deferred
        UNION SELECT queue FROM failed
        UNION SELECT queue FROM porter.paused_queues
        UNION SELECT unnest(a.queues) FROM alive a
        UNION SELECT queue FROM served
    )
    SELECT jsonb_build_object(
        'queues', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                'queue', n.queue,
                'queued', coalesce(w.queued, 0),
                'scheduled', coalesce(w.scheduled, 0),
                'deferred', coalesce(d.n, 0),
                'started', coalesce(s.n, 0),
                'failed_last_hour', coalesce(f.last_hour, 0),
                'failed_last_day', coalesce(f.last_day, 0),
                'finished_per_minute', coalesce(v.finished, 0),
                'lag_seconds', coalesce(round(extract(epoch FROM now() - w.oldest), 3), 0),
                'wait_p50_seconds', pw.p50,
                'wait_p95_seconds', pw.p95,
                'run_p50_seconds', pr.p50,
                'run_p95_seconds', pr.p95,
                'paused', EXISTS (SELECT 1 FROM porter.paused_queues p WHERE p.queue = n.queue),
                'slots', coalesce(v.slots, 0),
                'slots_busy', coalesce(v.busy, 0)) ORDER BY n.queue)
            FROM names n
            LEFT JOIN waiting w ON w.queue = n.queue
            LEFT JOIN started s ON s.queue = n.queue
            LEFT JOIN deferred d ON d.queue = n.queue
            LEFT JOIN failed f ON f.queue = n.queue
            LEFT JOIN served v ON v.queue = n.queue
            LEFT JOIN percentiles pw ON pw.queue = n.queue AND pw.kind = 'wait'
            LEFT JOIN percentiles pr ON pr.queue = n.queue AND pr.kind = 'run'), '[]'::jsonb),
        'workers', (SELECT count(*) FROM alive),
        'slots_busy', coalesce((SELECT sum(busy) FROM served), 0),
        'slots', coalesce((SELECT sum(slots) FROM served), 0),
        'at', now())
$$;

-- No new function is callable by PUBLIC (migration 0013); the worker and reader kinds get
-- theirs, and every role already granted a kind gets them too.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA porter FROM PUBLIC;
INSERT INTO porter.privileges (kind, privilege, object) VALUES
    ('worker', 'EXECUTE', 'FUNCTION porter.queue_is_paused(text)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.check_queue_name(text, text)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.pause_queue(text)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.resume_queue(text)'),
    ('worker', 'SELECT, INSERT, DELETE', 'TABLE porter.paused_queues'),
    ('reader', 'EXECUTE', 'FUNCTION porter.stats()'),
    ('reader', 'SELECT', 'TABLE porter.paused_queues');
SELECT porter.refresh_grants();
