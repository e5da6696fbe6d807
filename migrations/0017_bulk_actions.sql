-- 0017: bulk actions on jobs, safe while workers run: retry the failed jobs of a queue,
-- cancel its waiting jobs, delete old failures, each as one set-based statement per batch.
--
-- Each function changes at most max_jobs rows (1,000 by default) and returns how many it
-- changed, so a caller that loops, one transaction per call, never holds more than a batch of
-- row locks, and workers keep claiming and completing in between. Rows are picked FOR UPDATE
-- SKIP LOCKED: a row a worker holds (a claim, a completion, a running sql: job) is left for a
-- later batch instead of waited for.
--
-- A retry is defined once, in porter.requeue_jobs, which `porter retry ID` uses too: the job
-- comes back with fresh attempts, as deferred while a parent (depends_on) has not finished,
-- and the dependants its failure canceled come back with it (and theirs), as deferred.
--
-- Rights (migration 0013): every function pins its search_path and none is left to PUBLIC. A
-- worker's role, which may retry and cancel one job, may call them; they change only the
-- columns its grant lets it change.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

-- Dependants of a job: the jobs whose depends_on holds its id. Serves the revival of canceled
-- dependants in a retry and a job's page in the dashboard. Only jobs with depends_on have
-- entries, so ordinary jobs cost it nothing.
CREATE INDEX jobs_depends_on_idx ON porter.jobs USING gin (depends_on) WHERE depends_on IS NOT NULL;

-- Requeues failed or canceled jobs for another run and returns how many it requeued: fresh
-- attempts, run_at now; deferred while a parent has not finished. A job with a parent that
-- failed or was canceled is left as it is (retry the parent first). The dependants canceled
-- because one of them ended badly (their error names it, porter.dependency_error) come back
-- as deferred, and theirs in cascade. Wakes the queues of the jobs queued. Locks the jobs in
-- id order (as completions do) and their unfinished parents FOR SHARE, so no parent ends
-- unseen before the commit (as an enqueue with depends_on locks them).
CREATE FUNCTION porter.requeue_jobs(ids bigint[]) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    requeued bigint[];
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN 0;
    END IF;
    PERFORM 1 FROM porter.jobs j WHERE j.id = ANY(ids) ORDER BY j.id FOR UPDATE;
    PERFORM 1 FROM porter.jobs p
    WHERE p.id IN (SELECT unnest(j.depends_on) FROM porter.jobs j WHERE j.id = ANY(ids)) AND p.status <> 'finished'
    ORDER BY p.id FOR SHARE;
    WITH targets AS (
        SELECT j.id, EXISTS (SELECT 1 FROM porter.jobs p WHERE p.id = ANY(j.depends_on) AND p.status <> 'finished') AS waits
        FROM porter.jobs j
        WHERE j.id = ANY(ids) AND j.status IN ('failed', 'canceled')
          AND NOT EXISTS (SELECT 1 FROM porter.jobs p WHERE p.id = ANY(j.depends_on) AND p.status IN ('failed', 'canceled'))
    ), changed AS (
        UPDATE porter.jobs AS j
        SET status = CASE WHEN t.waits THEN 'deferred' ELSE 'queued' END, run_at = now(), ended_at = NULL,
            started_at = NULL, attempts = 0, orphaned = 0, worker_id = NULL, cancel_requested_at = NULL
        FROM targets t WHERE j.id = t.id
        RETURNING j.id, j.status, j.queue
    ), woken AS (
        SELECT count(pg_notify('porter_enqueue', q.queue)) AS n
        FROM (SELECT DISTINCT c.queue FROM changed c WHERE c.status = 'queued') AS q
    )
    SELECT array_agg(c.id) INTO requeued FROM changed c CROSS JOIN woken;
    IF requeued IS NULL THEN
        RETURN 0;
    END IF;
    -- Served by jobs_depends_on_idx, one probe per job of the chain.
    WITH RECURSIVE chain(id) AS (
        SELECT unnest(requeued)
      UNION
        SELECT d.id FROM porter.jobs d JOIN chain c ON d.depends_on @> ARRAY[c.id]
        WHERE d.status = 'canceled' AND starts_with(d.error, format('canceled: job %s (', c.id))
    )
    UPDATE porter.jobs AS j SET status = 'deferred', ended_at = NULL
    FROM chain WHERE j.id = chain.id AND j.id <> ALL(requeued);
    RETURN cardinality(requeued);
END
$$;

-- Refuses a status a bulk action does not take, and a batch size below 1.
CREATE FUNCTION porter.check_bulk(caller text, status text, allowed text[], max_jobs integer) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF status IS NULL OR NOT status = ANY(allowed) THEN
        RAISE EXCEPTION '%: status must be one of %, got %', caller, array_to_string(allowed, ', '), coalesce(status, 'NULL')
            USING ERRCODE = CASE WHEN status IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END,
                  COLUMN = 'status';
    END IF;
    IF max_jobs IS NULL OR max_jobs < 1 THEN
        RAISE EXCEPTION '%: max_jobs must be at least 1, got %', caller, coalesce(max_jobs::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'max_jobs',
                  HINT = 'each call changes at most max_jobs jobs; call it again until it returns 0';
    END IF;
END
$$;

-- Retries up to max_jobs failed (or canceled) jobs, optionally of one queue and method, that
-- ended at or after `since` and before `before` (default: this transaction's start, so a job
-- retried here that fails again is not picked again by the next call), and returns how many
-- it requeued (porter.requeue_jobs). Skipped: a job whose job_id an active job holds, all but
-- the newest of jobs sharing a job_id, and a job whose parent failed or was canceled. Served
-- by jobs_failed_queue_idx (one queue) or jobs_ended_at_idx.
CREATE FUNCTION porter.retry_jobs(
    queue    text        DEFAULT NULL,
    method   text        DEFAULT NULL,
    since    timestamptz DEFAULT NULL,
    before   timestamptz DEFAULT NULL,
    status   text        DEFAULT 'failed',
    max_jobs integer     DEFAULT 1000
) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    picked bigint[];
BEGIN
    PERFORM porter.check_bulk('porter.retry_jobs', retry_jobs.status, ARRAY['failed', 'canceled'], retry_jobs.max_jobs);
    -- EXECUTE plans with the values, so the partial indexes on status serve it.
    EXECUTE $q$
        SELECT array_agg(c.id) FROM (
            SELECT j.id FROM porter.jobs j
            WHERE j.status = $1 AND ($2::text IS NULL OR j.queue = $2) AND ($3::text IS NULL OR j.method = $3)
              AND ($4::timestamptz IS NULL OR j.ended_at >= $4) AND j.ended_at < coalesce($5, now())
              AND (j.job_id IS NULL OR NOT EXISTS (
                    SELECT 1 FROM porter.jobs a
                    WHERE a.job_id = j.job_id AND a.status IN ('queued', 'scheduled', 'started', 'deferred')))
              AND (j.depends_on IS NULL OR NOT EXISTS (
                    SELECT 1 FROM porter.jobs p WHERE p.id = ANY(j.depends_on) AND p.status IN ('failed', 'canceled')))
            LIMIT $6
            FOR UPDATE OF j SKIP LOCKED) AS c
    $q$ INTO picked
    USING retry_jobs.status, retry_jobs.queue, retry_jobs.method, retry_jobs.since, retry_jobs.before, retry_jobs.max_jobs;
    -- Two picked jobs with one job_id cannot both be active: keep the newest.
    picked := ARRAY(
        SELECT DISTINCT ON (j.job_id, CASE WHEN j.job_id IS NULL THEN j.id END) j.id
        FROM porter.jobs j WHERE j.id = ANY(picked)
        ORDER BY j.job_id, CASE WHEN j.job_id IS NULL THEN j.id END, j.id DESC);
    RETURN porter.requeue_jobs(picked);
END
$$;

-- Cancels up to max_jobs waiting jobs (queued by default; scheduled or deferred), optionally of
-- one queue and method, enqueued before `before` (default: this transaction's start), and
-- returns how many it canceled. Their deferred dependants are canceled in cascade by the
-- release trigger, as for `porter cancel ID`. Served by jobs_claim_idx (queued, scheduled) or
-- jobs_deferred_idx.
CREATE FUNCTION porter.cancel_jobs(
    queue    text        DEFAULT NULL,
    method   text        DEFAULT NULL,
    before   timestamptz DEFAULT NULL,
    status   text        DEFAULT 'queued',
    max_jobs integer     DEFAULT 1000
) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    changed integer;
BEGIN
    PERFORM porter.check_bulk('porter.cancel_jobs', cancel_jobs.status, ARRAY['queued', 'scheduled', 'deferred'], cancel_jobs.max_jobs);
    EXECUTE $q$
        WITH picked AS (
            SELECT j.id FROM porter.jobs j
            WHERE j.status = $1 AND ($2::text IS NULL OR j.queue = $2) AND ($3::text IS NULL OR j.method = $3)
              AND j.enqueued_at < coalesce($4, now())
            LIMIT $5
            FOR UPDATE SKIP LOCKED
        )
        UPDATE porter.jobs AS j SET status = 'canceled', ended_at = now(), error = 'canceled', cancel_requested_at = NULL
        FROM picked WHERE j.id = picked.id
    $q$
    USING cancel_jobs.status, cancel_jobs.queue, cancel_jobs.method, cancel_jobs.before, cancel_jobs.max_jobs;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;

-- Deletes up to max_jobs ended jobs (failed by default; canceled or finished) that ended more
-- than older_than ago, optionally of one queue and method, and returns how many it deleted.
-- Served by jobs_failed_queue_idx (one queue's failures) or jobs_ended_at_idx.
CREATE FUNCTION porter.delete_jobs(
    older_than interval,
    queue      text    DEFAULT NULL,
    method     text    DEFAULT NULL,
    status     text    DEFAULT 'failed',
    max_jobs   integer DEFAULT 1000
) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    changed integer;
BEGIN
    PERFORM porter.check_bulk('porter.delete_jobs', delete_jobs.status, ARRAY['failed', 'canceled', 'finished'], delete_jobs.max_jobs);
    IF older_than IS NULL OR older_than < interval '0' THEN
        RAISE EXCEPTION 'porter.delete_jobs: older_than must be a positive interval, got %', coalesce(older_than::text, 'NULL')
            USING ERRCODE = CASE WHEN older_than IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END,
                  COLUMN = 'older_than', HINT = 'e.g. older_than => interval ''7 days''';
    END IF;
    EXECUTE $q$
        DELETE FROM porter.jobs WHERE id IN (
            SELECT j.id FROM porter.jobs j
            WHERE j.status = $1 AND j.ended_at < now() - $2
              AND ($3::text IS NULL OR j.queue = $3) AND ($4::text IS NULL OR j.method = $4)
            LIMIT $5
            FOR UPDATE SKIP LOCKED)
    $q$
    USING delete_jobs.status, delete_jobs.older_than, delete_jobs.queue, delete_jobs.method, delete_jobs.max_jobs;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA porter FROM PUBLIC;
INSERT INTO porter.privileges (kind, privilege, object) VALUES
    ('worker', 'EXECUTE', 'FUNCTION porter.requeue_jobs(bigint[])'),
    ('worker', 'EXECUTE', 'FUNCTION porter.check_bulk(text, text, text[], integer)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.retry_jobs(text, text, timestamptz, timestamptz, text, integer)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.cancel_jobs(text, text, timestamptz, text, integer)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.delete_jobs(interval, text, text, text, integer)');
SELECT porter.refresh_grants();
