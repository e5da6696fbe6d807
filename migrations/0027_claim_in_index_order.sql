-- 0027: the plain claim walks jobs_claim_idx in its order whatever the table's statistics
-- say (issue 21).
--
-- The claim was a statement the worker prepared, so PostgreSQL planned it once for any
-- queue ($1). On a porter.jobs never analyzed (a fresh install), or analyzed while it held
-- few waiting jobs, the generic plan expected two rows and chose a bitmap scan of every
-- claimable job of the queue, then a sort of them all (spilled to disk past 4 MB), to take
-- the first hundred: 40 ms a claim with 70,000 jobs waiting, 2,400 jobs/s where the same
-- worker does 25,000 once autovacuum has analyzed the table (up to a minute later, and on
-- a table with history never for a burst under a tenth of it).
--
-- porter.claim_queued plans its claim with index scans on, bitmap scans, sorts and
-- sequential scans off and a generic plan forced, whatever the session's settings, so the
-- only plan left is the index walk in claim order, planned
-- once per session: the limit is a parameter here, which in a generic plan is assumed to
-- be a tenth of the table and had made PostgreSQL plan every claim anew. The settings
-- apply inside the function only.
--
-- It does what the worker's statement did (JobRunQueries.claimAvailable): nothing for a
-- paused queue or one with limits (porter.claim_limited claims those); asynchronous commit
-- and the worker-statement mark for its transaction; at-front first, then priority, run_at,
-- id; SKIP LOCKED; attempts saturating; each job's wait from when it could run, enqueued_at
-- capped at now(). Its columns are porter.claim_limited's, so the worker's statement
-- appends one to the other.
--
-- Rights (migration 0013): SECURITY INVOKER, as the statement it replaces ran with the
-- worker's own rights; the worker kind may execute it.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION porter.claim_queued(
    queue          text,
    worker_id      text,
    wanted         integer,
    skip_methods   text[] DEFAULT NULL,
    skip_documents text[] DEFAULT NULL
) RETURNS TABLE(claimed_id bigint, claimed_job_id text, claimed_method text, claimed_queue text, claimed_args jsonb,
                claimed_attempt integer, claimed_max_attempts integer, claimed_timeout integer, claimed_orphaned integer,
                wait_seconds double precision)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET enable_indexscan = on
    SET enable_bitmapscan = off
    SET enable_sort = off
    SET enable_seqscan = off
    SET plan_cache_mode = force_generic_plan
    SET jit = off
AS $$
#variable_conflict use_column
BEGIN
    IF wanted IS NULL OR wanted <= 0 OR worker_id IS NULL THEN
        RETURN;
    END IF;
    -- A paused queue, or one with limits: one probe each of paused_queues_pkey and
    -- queue_limits_scope_key per claim, not per row.
    IF EXISTS (SELECT FROM porter.paused_queues p WHERE p.queue = claim_queued.queue)
       OR EXISTS (SELECT FROM porter.queue_limits l WHERE l.queue = claim_queued.queue) THEN
        RETURN;
    END IF;
    -- Local to the transaction, so they outlast this function: no wait for the WAL flush
    -- (JobRunQueries says why that is safe), and the status trigger skips these rows (the
    -- worker sends their started events itself).
    PERFORM set_config('synchronous_commit', 'off', true), set_config('porter.worker_statement', 'on', true);
    RETURN QUERY
    WITH next AS (
        -- jobs_claim_idx, walked in its order from the queue's first runnable job.
        SELECT j.id FROM porter.jobs j
        WHERE j.queue = claim_queued.queue AND j.status IN ('queued', 'scheduled') AND j.run_at <= now()
          AND (skip_methods IS NULL OR j.method <> ALL(skip_methods))
          AND (skip_documents IS NULL OR NOT (j.method = 'porter.run_doc_method'
               AND (j.args->>'doctype') || '.' || (j.args->>'doc_method') = ANY(skip_documents)))
        ORDER BY j.at_front DESC, j.priority, j.run_at, j.id
        LIMIT wanted
        FOR UPDATE SKIP LOCKED
    )
    -- jobs_pkey, once per job taken.
    UPDATE porter.jobs AS j
    SET status = 'started', started_at = now(), ended_at = NULL,
        attempts = least(j.attempts, 2147483646) + 1,
        worker_id = claim_queued.worker_id, cancel_requested_at = NULL
    FROM next WHERE j.id = next.id
    RETURNING j.id, j.job_id, j.method, j.queue, j.args, j.attempts, j.max_attempts, j.timeout, j.orphaned,
        date_part('epoch', now() - greatest(j.run_at, least(j.enqueued_at, now())))::float8;
END
$$;

-- No new function is callable by PUBLIC (migration 0013); the worker claims with it.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA porter FROM PUBLIC;
INSERT INTO porter.privileges (kind, privilege, object) VALUES
    ('worker', 'EXECUTE', 'FUNCTION porter.claim_queued(text, text, integer, text[], text[])');
SELECT porter.refresh_grants();
