-- 0005: realtime events over LISTEN/NOTIFY, Frappe's publish_realtime and publish_progress.
--
-- Every event goes out on channel porter_realtime as JSON {"event": ..., "job": <id or null>,
-- "message": {...}}. NOTIFY is transactional, so an event published inside a transaction is
-- delivered only if it commits. A payload over NOTIFY's limit (8,000 bytes) is stored in
-- porter.realtime_messages and the notification carries {"event", "job", "ref": <id>} instead;
-- a listener reads the message with that id. Progress is also kept in porter.jobs.progress, so
-- a listener who arrives late still sees where a job stands.

CREATE TABLE porter.realtime_messages (
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    event      text        NOT NULL,
    job        bigint,
    message    jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT realtime_messages_pkey PRIMARY KEY (id)
);

-- Publishes an event to every listener on porter_realtime, at commit. Returns nothing.
CREATE FUNCTION porter.publish_realtime(event text, message jsonb DEFAULT '{}', job bigint DEFAULT porter.current_job_id())
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    payload text;
    ref bigint;
BEGIN
    IF event IS NULL OR btrim(event) = '' THEN
        RAISE EXCEPTION 'porter.publish_realtime: event must be a non-empty name'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'event', HINT = 'e.g. event => ''stock_sync_done''';
    END IF;
    payload := jsonb_build_object('event', event, 'job', job, 'message', coalesce(message, '{}'))::text;
    IF octet_length(payload) > 7900 THEN
        INSERT INTO porter.realtime_messages (event, job, message)
        VALUES (event, job, coalesce(message, '{}')) RETURNING id INTO ref;
        payload := jsonb_build_object('event', event, 'job', job, 'ref', ref)::text;
    END IF;
    PERFORM pg_notify('porter_realtime', payload);
END
$$;

-- Records a job's progress in porter.jobs.progress and publishes it as event "progress".
CREATE FUNCTION porter.publish_job_progress(job bigint, percent numeric, title text DEFAULT NULL, description text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    new_progress jsonb := jsonb_build_object('percent', percent, 'title', title, 'description', description);
BEGIN
    IF percent IS NULL OR percent < 0 OR percent > 100 THEN
        RAISE EXCEPTION 'porter.publish_progress: percent must be between 0 and 100, got %', percent
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'percent';
    END IF;
    UPDATE porter.jobs SET progress = new_progress WHERE id = publish_job_progress.job;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'porter.publish_progress: no job has id %', job
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'job';
    END IF;
    PERFORM porter.publish_realtime('progress', new_progress, job);
END
$$;

-- Frappe's publish_progress, from inside an sql: job: acts on porter.current_job_id().
CREATE FUNCTION porter.publish_progress(percent numeric, title text DEFAULT NULL, description text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF porter.current_job_id() IS NULL THEN
        RAISE EXCEPTION 'porter.publish_progress: not inside a Porter job'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'call it from an sql: job, or use porter.publish_job_progress(job, percent, ...)';
    END IF;
    PERFORM porter.publish_job_progress(porter.current_job_id(), percent, title, description);
END
$$;
