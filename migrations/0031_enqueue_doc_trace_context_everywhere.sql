-- 0031: porter.enqueue_doc takes traceparent and tracestate on every database, also one
-- migrated under the tracing branch's numbering (migrations/RETIRED).
--
-- That branch released flow control, debounce, limit stats, enqueue_doc's flow control and
-- the trace context as 0020-0024; the released numbering has them as 0021-0026. A database
-- that applied the branch's five has the schema of 0001-0026 but for one function: its
-- porter.enqueue_doc lacks the trace parameters that 0026 gives it. Migrator records such a
-- database under the released numbering (Migration.renumbering), and this migration gives it
-- 0026's porter.enqueue_doc and grants. Everywhere else it changes nothing: the old signature
-- is gone already, and the function is replaced by its own text.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION IF EXISTS porter.enqueue_doc(text, text, text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[], text, interval, interval);
CREATE OR REPLACE FUNCTION porter.enqueue_doc(
    doctype      text,
    name         text,
    method       text,
    args         jsonb       DEFAULT '{}',
    queue        text        DEFAULT 'default',
    job_id       text        DEFAULT NULL,
    deduplicate  boolean     DEFAULT false,
    at_front     boolean     DEFAULT false,
    timeout      integer     DEFAULT NULL,
    run_at       timestamptz DEFAULT NULL,
    priority     integer     DEFAULT 0,
    max_attempts integer     DEFAULT NULL,
    depends_on   bigint[]    DEFAULT NULL,
    limit_key    text        DEFAULT NULL,
    debounce     interval    DEFAULT NULL,
    debounce_max interval    DEFAULT NULL,
    traceparent  text        DEFAULT NULL,
    tracestate   text        DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF doctype IS NULL OR btrim(doctype) = '' THEN
        RAISE EXCEPTION 'porter.enqueue_doc: doctype must be a non-empty name'
            USING ERRCODE = CASE WHEN doctype IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END,
                  COLUMN = 'doctype', HINT = 'pass the registered document type, e.g. doctype => ''Outlet''';
    END IF;
    IF name IS NULL OR name = '' THEN
        RAISE EXCEPTION 'porter.enqueue_doc: name must be the document''s name'
            USING ERRCODE = CASE WHEN name IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END,
                  COLUMN = 'name', HINT = 'pass the name of the record to load, e.g. name => ''OUT-0001''';
    END IF;
    IF method IS NULL OR btrim(method) = '' THEN
        RAISE EXCEPTION 'porter.enqueue_doc: method must name a method of the document type'
            USING ERRCODE = CASE WHEN method IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END,
                  COLUMN = 'method', HINT = 'e.g. method => ''sync_stock''';
    END IF;
    IF args IS NOT NULL AND jsonb_typeof(args) <> 'object' THEN
        RAISE EXCEPTION 'porter.enqueue_doc: args must be a JSON object, got a JSON %', jsonb_typeof(args)
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'args',
                  HINT = 'the method''s keyword arguments, e.g. {"force": true}';
    END IF;
    RETURN porter.enqueue(
        method => 'porter.run_doc_method',
        args => jsonb_build_object('doctype', doctype, 'name', name, 'doc_method', method,
                                   'kwargs', coalesce(args, '{}')),
        queue => queue, job_id => job_id, deduplicate => deduplicate, at_front => at_front,
        timeout => timeout, run_at => run_at, priority => priority, max_attempts => max_attempts,
        depends_on => depends_on, limit_key => limit_key, debounce => debounce, debounce_max => debounce_max,
        traceparent => traceparent, tracestate => tracestate);
END
$$;

-- As 0026: not callable by PUBLIC (migration 0013), and the trace-taking signature in the
-- enqueuer's and the worker's grants instead of the old one.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA porter FROM PUBLIC;
DELETE FROM porter.privileges WHERE object = 'FUNCTION porter.enqueue_doc(text, text, text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[], text, interval, interval)';
INSERT INTO porter.privileges (kind, privilege, object)
SELECT k.kind, 'EXECUTE', 'FUNCTION porter.enqueue_doc(text, text, text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[], text, interval, interval, text, text)'
FROM (VALUES ('enqueuer'), ('worker')) AS k(kind)
WHERE NOT EXISTS (SELECT FROM porter.privileges p
                  WHERE p.kind = k.kind AND p.privilege = 'EXECUTE' AND p.object = 'FUNCTION porter.enqueue_doc(text, text, text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[], text, interval, interval, text, text)');
SELECT porter.refresh_grants();
