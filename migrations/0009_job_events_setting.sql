-- 0009: job state events can be switched off per transaction, for throughput.
--
-- Every transaction that sends a NOTIFY takes one cluster-wide lock at commit and holds it
-- until its commit record is flushed, so notifications stay in commit order. A worker's claims
-- and completions all notify (the state events of 0005), so they commit one after another,
-- each behind the previous one's WAL flush. A worker configured with "job_events": false sets
-- porter.job_events = 'off' in its claim and completion transactions; their state changes
-- then send no event. Everything else is unchanged: progress, publish_realtime, the enqueue
-- wake-up, and the state events of every other writer.

-- 0005's function, with the early exit.
CREATE OR REPLACE FUNCTION porter.notify_status_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('porter.job_events', true) = 'off' THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('porter_realtime', jsonb_build_object(
        'event', n.status, 'job', n.id,
        'message', jsonb_build_object('status', n.status, 'method', n.method, 'queue', n.queue,
                                      'attempt', n.attempts, 'error', left(n.error, 4000)))::text)
    FROM changed_new n JOIN changed_old o ON o.id = n.id
    WHERE o.status IS DISTINCT FROM n.status;
    RETURN NULL;
END
$$;
