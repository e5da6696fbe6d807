-- 0023: porter.enqueue_doc takes limit_key, debounce and debounce_max (issue 20), as
-- porter.enqueue does since migrations 0020 and 0021, so that a document method's job is
-- limited and debounced like any other: EnqueueOptions' limitKey and debounce were otherwise
-- lost on the way through porter.enqueue_doc. A new signature, so the old one is dropped;
-- positional and named calls of the old thirteen arguments resolve to this one unchanged.
--
-- Rights (migration 0013): SECURITY DEFINER with a pinned search_path, as before; the new
-- signature replaces the old one in the enqueuer's and the worker's grants.

-- Every object below is resolved against the built-ins only. Local to this migration's
-- transaction.
SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION porter.enqueue_doc(text, text, text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[]);
CREATE FUNCTION porter.enqueue_doc(
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
    debounce_max interval    DEFAULT NULL
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
        depends_on => depends_on, limit_key => limit_key, debounce => debounce, debounce_max => debounce_max);
END
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA porter FROM PUBLIC;
DELETE FROM porter.privileges
WHERE object = 'FUNCTION porter.enqueue_doc(text, text, text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[])';
INSERT INTO porter.privileges (kind, privilege, object) VALUES
    ('enqueuer', 'EXECUTE', 'FUNCTION porter.enqueue_doc(text, text, text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[], text, interval, interval)'),
    ('worker', 'EXECUTE', 'FUNCTION porter.enqueue_doc(text, text, text, jsonb, text, text, boolean, boolean, integer, timestamptz, integer, integer, bigint[], text, interval, interval)');
SELECT porter.refresh_grants();
