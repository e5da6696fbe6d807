-- 0012: no job state event can exceed NOTIFY's limit, and sql: jobs report progress live.
--
-- A job state event packed the job's method, queue and left(error, 4000) (characters, so up
-- to 16 kB) into one NOTIFY. Over 8,000 bytes pg_notify raises, and the statement that
-- changed the job's status failed with it: one job with a 4,100-character method, or an
-- sql: function raising a 9 kB message, stopped every completion of its worker. Now a state
-- event whose payload would be too long goes by reference, as publish_realtime's messages
-- do: the message is stored in porter.realtime_messages and the notification carries
-- {"event", "job", "ref"}. Error text in events is cut by bytes, not characters.
--
-- An sql: job's progress (porter.publish_progress) updated porter.jobs.progress inside the
-- job's own transaction: it arrived only at commit, together with "finished", and the row
-- lock it took made `porter cancel` wait for the job to end. Inside a worker's sql: job
-- (which sets porter.relay_progress) progress is now sent to the worker as a NOTICE, which
-- the server delivers at once; the worker relays it on a connection of its own, so it is
-- stored and published while the job runs and the job's transaction never locks its row.

-- The longest prefix of `value` that is at most `max_bytes` bytes in the server's encoding,
-- cut at a character boundary. Each pass drops at least a quarter of the excess in
-- characters (a character is 1 to 4 bytes), so it ends in a few passes.
CREATE FUNCTION porter.left_bytes(value text, max_bytes integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    keep integer;
    excess integer;
BEGIN
    IF octet_length(value) <= max_bytes THEN
        RETURN value;
    END IF;
    IF max_bytes <= 0 THEN
        RETURN '';
    END IF;
    keep := least(length(value), max_bytes);
    LOOP
        excess := octet_length(left(value, keep)) - max_bytes;
        EXIT WHEN excess <= 0;
        keep := keep - greatest(1, (excess + 3) / 4);
    END LOOP;
    RETURN left(value, keep);
END
$$;

-- A job state event whose fields are long: built exactly, and sent by reference when it
-- would not fit in one notification (7,900 bytes, publish_realtime's threshold). The error
-- is cut to 4,000 bytes first. Called by job_event_payload only for long fields.
CREATE FUNCTION porter.job_event_payload_long(job bigint, status text, method text, queue text, attempt integer, error text)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    message jsonb := jsonb_build_object('status', status, 'method', method, 'queue', queue, 'attempt', attempt,
                                        'error', porter.left_bytes(error, 4000));
    payload text := format('{"job": %s, "event": %s, "message": %s}', job, to_json(status), message::text);
    ref bigint;
BEGIN
    IF octet_length(payload) <= 7900 THEN
        RETURN payload;
    END IF;
    INSERT INTO porter.realtime_messages (event, job, message) VALUES (status, job, message) RETURNING id INTO ref;
    RETURN jsonb_build_object('event', status, 'job', job, 'ref', ref)::text;
END
$$;

-- 0010's payload, bounded. Fields that together are at most 1,200 bytes cannot make a
-- payload over 7,900 bytes (JSON escaping at most sextuples a byte), so the common case
-- stays one format() call, inlined by the planner; longer ones go to job_event_payload_long.
-- VOLATILE because that function may store the message; an inlined VOLATILE SQL function
-- costs nothing more.
CREATE OR REPLACE FUNCTION porter.job_event_payload(job bigint, status text, method text, queue text, attempt integer, error text)
RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT CASE
        WHEN pg_catalog.octet_length(method) + pg_catalog.octet_length(queue)
             + coalesce(pg_catalog.octet_length(error), 0) <= 1200
        THEN pg_catalog.format('{"job": %s, "event": %s, "message": {"error": %s, "queue": %s, "method": %s, "status": %s, "attempt": %s}}',
                               job, pg_catalog.to_json(status), coalesce(pg_catalog.to_json(error)::text, 'null'),
                               pg_catalog.to_json(queue), pg_catalog.to_json(method), pg_catalog.to_json(status), attempt)
        ELSE porter.job_event_payload_long(job, status, method, queue, attempt, error)
    END
$$;

-- 0005's function, relaying inside a worker's sql: job. The worker sets porter.relay_progress
-- for the job's transaction; the NOTICE's detail is the progress object, which the worker
-- stores and publishes on another connection (by calling this function there) at once.
CREATE OR REPLACE FUNCTION porter.publish_job_progress(job bigint, percent numeric, title text DEFAULT NULL, description text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    new_progress jsonb := jsonb_build_object('percent', percent, 'title', title, 'description', description);
BEGIN
    IF percent IS NULL OR percent < 0 OR percent > 100 THEN
        RAISE EXCEPTION 'porter.publish_progress: percent must be between 0 and 100, got %', percent
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'percent';
    END IF;
    IF publish_job_progress.job = porter.current_job_id() AND current_setting('porter.relay_progress', true) = 'on' THEN
        RAISE NOTICE 'porter.progress' USING DETAIL = new_progress::text;
        RETURN;
    END IF;
    UPDATE porter.jobs SET progress = new_progress WHERE id = publish_job_progress.job;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'porter.publish_progress: no job has id %', job
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'job';
    END IF;
    PERFORM porter.publish_realtime('progress', new_progress, job);
END
$$;
