-- 0024: fixes of flow control (migrations 0021 and 0022) found by trying them with hostile
-- input, written forward: 0021–0023 stay as they were released.
--
-- * A window (porter.set_limit's per) longer than 100 years is refused, by set_limit with a
--   clear error and by a table constraint for a row written by hand: a claim subtracts the
--   window from its clock, and a million-year one made every claim of its queue fail with
--   "timestamp out of range". A row stored before this migration with such a window is
--   brought to 100 years, the longest a claim can count back (it could only fail claims).
-- * debounce and debounce_max longer than 100 years are refused by porter.enqueue with a
--   clear invalid_parameter_value naming the parameter, instead of a bare "timestamp out of
--   range".
-- * set_limit and clear_limit forget a queue's claim log once no limit of it counts starts,
--   and its fair turn once it is not fair (porter.forget_limit_state): a rate set again later
--   starts from an empty window rather than from claims made while no rate held. clear_limit
--   forgot them only once the queue had no limit left.
--
-- Rights (migration 0013): the replaced functions keep theirs; the new helper is called only
-- by set_limit and clear_limit, SECURITY DEFINER, and is callable by nobody else.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

UPDATE porter.queue_limits SET per = interval '36525 days' WHERE per > interval '36525 days';
-- A claim subtracts per from its clock: a window of a million years would make every claim
-- of the queue fail with "timestamp out of range". 100 years is run_at's own bound.
ALTER TABLE porter.queue_limits ADD CONSTRAINT queue_limits_per_within_range CHECK (per <= interval '36525 days');

-- Forgets a queue's claim log once no limit of it counts starts, and its fair turn once it is
-- not fair: the claim keeps them only while they count, and a rate set again later starts
-- from an empty window rather than from claims made while no rate held.
CREATE FUNCTION porter.forget_limit_state(queue text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM porter.queue_limits l WHERE l.queue = forget_limit_state.queue AND l.max_starts IS NOT NULL) THEN
        DELETE FROM porter.limit_starts s WHERE s.queue = forget_limit_state.queue;
    END IF;
    IF NOT EXISTS (SELECT FROM porter.queue_limits l WHERE l.queue = forget_limit_state.queue AND l.fair) THEN
        DELETE FROM porter.limit_turns t WHERE t.queue = forget_limit_state.queue;
    END IF;
END
$$;

-- 0021's porter.set_limit, which also refuses a window past 100 years and forgets the state
-- the queue no longer needs.
CREATE OR REPLACE FUNCTION porter.set_limit(
    queue text, limit_key text DEFAULT NULL, each_key boolean DEFAULT false, max_running integer DEFAULT NULL,
    max_starts integer DEFAULT NULL, per interval DEFAULT NULL, fair boolean DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM porter.check_queue_name(set_limit.queue, 'porter.set_limit');
    PERFORM porter.check_limit_key(set_limit.limit_key, 'porter.set_limit');
    IF set_limit.limit_key IS NOT NULL AND coalesce(set_limit.each_key, false) THEN
        RAISE EXCEPTION 'porter.set_limit: pass limit_key or each_key, not both'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'each_key',
                  HINT = 'limit_key => ''x'' limits one key; each_key => true limits every key without a limit of its own';
    END IF;
    IF set_limit.max_running IS NOT NULL AND set_limit.max_running <= 0 THEN
        RAISE EXCEPTION 'porter.set_limit: max_running must be at least 1, got %', set_limit.max_running
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'max_running',
                  HINT = 'to stop a queue, use porter.pause_queue; to lift the limit, porter.clear_limit';
    END IF;
    IF set_limit.max_starts IS NOT NULL AND set_limit.max_starts <= 0 THEN
        RAISE EXCEPTION 'porter.set_limit: max_starts must be at least 1, got %', set_limit.max_starts
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'max_starts',
                  HINT = 'to stop a queue, use porter.pause_queue; to lift the limit, porter.clear_limit';
    END IF;
    IF (set_limit.max_starts IS NULL) <> (set_limit.per IS NULL) THEN
        RAISE EXCEPTION 'porter.set_limit: max_starts and per go together'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = CASE WHEN set_limit.per IS NULL THEN 'per' ELSE 'max_starts' END,
                  HINT = 'e.g. max_starts => 100, per => interval ''1 minute''';
    END IF;
    IF set_limit.per <= interval '0' THEN
        RAISE EXCEPTION 'porter.set_limit: per must be a positive interval, got %', set_limit.per
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'per',
                  HINT = 'e.g. per => interval ''1 minute''';
    END IF;
    IF set_limit.per > interval '36525 days' THEN
        RAISE EXCEPTION 'porter.set_limit: per is %, longer than 100 years', set_limit.per
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'per',
                  HINT = 'a window of at most 100 years (36525 days), e.g. per => interval ''1 minute''';
    END IF;
    IF coalesce(set_limit.fair, false) AND (set_limit.limit_key IS NOT NULL OR coalesce(set_limit.each_key, false)) THEN
        RAISE EXCEPTION 'porter.set_limit: fair is set on a queue, not on a key'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'fair',
                  HINT = format('SELECT porter.set_limit(%L, fair => true)', set_limit.queue);
    END IF;
    IF set_limit.max_running IS NULL AND set_limit.max_starts IS NULL AND NOT coalesce(set_limit.fair, false) THEN
        RAISE EXCEPTION 'porter.set_limit: no limit given'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'max_running',
                  HINT = 'pass max_running, max_starts with per, or fair => true; to remove a limit, use porter.clear_limit';
    END IF;
    INSERT INTO porter.queue_limits AS l (queue, limit_key, each_key, max_running, max_starts, per, fair, updated_at)
    VALUES (set_limit.queue, set_limit.limit_key, coalesce(set_limit.each_key, false), set_limit.max_running,
            set_limit.max_starts, set_limit.per, coalesce(set_limit.fair, false), now())
    ON CONFLICT ON CONSTRAINT queue_limits_scope_key DO UPDATE
    SET max_running = excluded.max_running, max_starts = excluded.max_starts, per = excluded.per,
        fair = excluded.fair, updated_at = excluded.updated_at;
    PERFORM porter.forget_limit_state(set_limit.queue);
    PERFORM pg_notify('porter_enqueue', set_limit.queue);
END
$$;

-- 0021's porter.clear_limit, which forgets the claim log and fair turn the queue no longer
-- needs, not only once it has no limit left.
CREATE OR REPLACE FUNCTION porter.clear_limit(queue text, limit_key text DEFAULT NULL, each_key boolean DEFAULT false) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    changed integer;
BEGIN
    PERFORM porter.check_queue_name(clear_limit.queue, 'porter.clear_limit');
    PERFORM porter.check_limit_key(clear_limit.limit_key, 'porter.clear_limit');
    IF clear_limit.limit_key IS NOT NULL AND coalesce(clear_limit.each_key, false) THEN
        RAISE EXCEPTION 'porter.clear_limit: pass limit_key or each_key, not both'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'each_key';
    END IF;
    DELETE FROM porter.queue_limits l
    WHERE l.queue = clear_limit.queue AND l.limit_key IS NOT DISTINCT FROM clear_limit.limit_key
      AND l.each_key = coalesce(clear_limit.each_key, false);
    GET DIAGNOSTICS changed = ROW_COUNT;
    PERFORM porter.forget_limit_state(clear_limit.queue);
    IF changed > 0 THEN
        PERFORM pg_notify('porter_enqueue', clear_limit.queue);
    END IF;
    RETURN changed > 0;
END
$$;

-- 0022's porter.enqueue_debounced, which also refuses a debounce or debounce_max past 100 years.
CREATE OR REPLACE FUNCTION porter.enqueue_debounced(
    method text, args jsonb, queue text, job_id text, deduplicate boolean, at_front boolean, timeout integer,
    run_at timestamptz, priority integer, max_attempts integer, depends_on bigint[], limit_key text,
    debounce interval, debounce_max interval)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    new_id bigint;
    due timestamptz;
    parents record;
    waiting boolean := false;
    dead_parent bigint;
    dead_status text;
    dead_method text;
BEGIN
    IF enqueue_debounced.debounce IS NULL THEN
        RAISE EXCEPTION 'porter.enqueue: debounce_max needs debounce'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'debounce',
                  HINT = 'e.g. debounce => interval ''5 seconds'', debounce_max => interval ''1 minute''';
    END IF;
    IF enqueue_debounced.job_id IS NULL THEN
        RAISE EXCEPTION 'porter.enqueue: debounce requires a job_id'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'job_id',
                  HINT = 'pass job_id => ''...'' naming the work whose enqueues are merged, e.g. ''reindex:42''';
    END IF;
    IF enqueue_debounced.debounce <= interval '0' THEN
        RAISE EXCEPTION 'porter.enqueue: debounce must be a positive interval, got %', enqueue_debounced.debounce
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'debounce',
                  HINT = 'e.g. debounce => interval ''5 seconds''';
    END IF;
    IF enqueue_debounced.debounce > interval '36525 days' OR enqueue_debounced.debounce_max > interval '36525 days' THEN
        RAISE EXCEPTION 'porter.enqueue: debounce and debounce_max are at most 100 years, got % and %',
                enqueue_debounced.debounce, coalesce(enqueue_debounced.debounce_max::text, 'none')
            USING ERRCODE = 'invalid_parameter_value',
                  COLUMN = CASE WHEN enqueue_debounced.debounce > interval '36525 days' THEN 'debounce' ELSE 'debounce_max' END,
                  HINT = 'as run_at, a job is delayed by at most 100 years (36525 days)';
    END IF;
    IF enqueue_debounced.debounce_max < enqueue_debounced.debounce THEN
        RAISE EXCEPTION 'porter.enqueue: debounce_max (%) is below debounce (%)', enqueue_debounced.debounce_max, enqueue_debounced.debounce
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'debounce_max',
                  HINT = 'debounce_max caps how long enqueues may keep delaying the job: at least debounce';
    END IF;
    FOR attempt IN 1..2 LOOP
        -- A waiting job with this job_id: its arguments, and run_at now + debounce, never past
        -- its first enqueue + debounce_max.
        UPDATE porter.jobs AS j
        SET args = coalesce(enqueue_debounced.args, '{}'),
            run_at = d.delayed_to,
            status = CASE WHEN j.status = 'deferred' THEN 'deferred'
                          WHEN d.delayed_to > now() THEN 'scheduled' ELSE 'queued' END
        FROM (SELECT CASE WHEN enqueue_debounced.debounce_max IS NULL THEN now() + enqueue_debounced.debounce
                          ELSE least(now() + enqueue_debounced.debounce, w.enqueued_at + enqueue_debounced.debounce_max) END AS delayed_to,
                     w.id
              FROM porter.jobs w WHERE w.job_id = enqueue_debounced.job_id AND w.status IN ('queued', 'scheduled', 'deferred')) AS d
        WHERE j.id = d.id AND j.job_id = enqueue_debounced.job_id AND j.status IN ('queued', 'scheduled', 'deferred')
        RETURNING j.id INTO new_id;
        IF new_id IS NOT NULL THEN
            RETURN new_id;
        END IF;
        IF attempt = 1 THEN
            IF cardinality(enqueue_debounced.depends_on) > 0 THEN
                parents := porter.lock_parents(enqueue_debounced.depends_on);
                waiting := parents.waiting;
                dead_parent := parents.dead_parent;
                dead_status := parents.dead_status;
                dead_method := parents.dead_method;
            END IF;
            due := coalesce(enqueue_debounced.run_at, now() + enqueue_debounced.debounce);
            INSERT INTO porter.jobs AS j
                (job_id, method, queue, args, status, priority, at_front, max_attempts, timeout, run_at,
                 depends_on, ended_at, error, limit_key, debounced)
            VALUES (enqueue_debounced.job_id, enqueue_debounced.method, enqueue_debounced.queue, coalesce(enqueue_debounced.args, '{}'),
                    CASE WHEN dead_parent IS NOT NULL THEN 'canceled'
                         WHEN waiting THEN 'deferred'
                         WHEN due > now() THEN 'scheduled' ELSE 'queued' END,
                    coalesce(enqueue_debounced.priority, 0), coalesce(enqueue_debounced.at_front, false),
                    enqueue_debounced.max_attempts, enqueue_debounced.timeout, due, nullif(enqueue_debounced.depends_on, '{}'),
                    CASE WHEN dead_parent IS NOT NULL THEN now() END,
                    CASE WHEN dead_parent IS NOT NULL THEN porter.dependency_error(dead_parent, dead_method, dead_status) END,
                    enqueue_debounced.limit_key, true)
            ON CONFLICT (job_id) WHERE job_id IS NOT NULL AND status IN ('queued', 'scheduled', 'started', 'deferred') AND NOT (status = 'started' AND debounced) DO NOTHING
            RETURNING j.id INTO new_id;
            IF new_id IS NOT NULL THEN
                RETURN new_id;
            END IF;
        END IF;
    END LOOP;
    -- The job_id is held by a started job enqueued without debounce.
    IF NOT coalesce(enqueue_debounced.deduplicate, false) THEN
        PERFORM porter.raise_duplicate_job_id(enqueue_debounced.job_id);
    END IF;
    RETURN NULL;
END
$$;

-- No new function is callable by PUBLIC (migration 0013).
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA porter FROM PUBLIC;
