-- 0003: what the worker runtime needs.
--
-- Workers register in porter.workers and heartbeat there; a started job records the worker
-- holding it, so a rescuer can tell a job whose worker died (no heartbeat for rescue_after)
-- from one still running, and put it back in the queue within seconds. orphaned counts those
-- rescues, so a job that keeps killing its worker fails as poison instead of looping forever.

CREATE TABLE porter.workers (
    id           text        NOT NULL,
    host         text        NOT NULL,
    pid          integer     NOT NULL,
    queues       text[]      NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workers_pkey PRIMARY KEY (id)
);

ALTER TABLE porter.jobs
    -- The worker running a started job; NULL otherwise.
    ADD COLUMN worker_id text,
    -- How many times the job was rescued from a dead worker.
    ADD COLUMN orphaned integer NOT NULL DEFAULT 0,
    -- Set by porter cancel on a started job; the worker cancels the handler cooperatively.
    ADD COLUMN cancel_requested_at timestamptz;

-- Rescue: the started jobs of one worker; small, since it holds only running jobs.
CREATE INDEX jobs_started_worker_idx ON porter.jobs (worker_id) WHERE status = 'started';

-- Pruning: finished and failed jobs by age.
CREATE INDEX jobs_ended_at_idx ON porter.jobs (status, ended_at) WHERE status IN ('finished', 'failed', 'canceled');

-- The id of the job whose sql: function is running in this transaction, or NULL.
CREATE FUNCTION porter.current_job_id() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('porter.current_job_id', true), '')::bigint
$$;
