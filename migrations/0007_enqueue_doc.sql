-- 0007: document jobs, Frappe's enqueue_doc. A job that loads a record of a registered
-- document type by name and runs one of its methods. Like Frappe, it is an ordinary job whose
-- method is porter.run_doc_method, with args {"doctype", "name", "doc_method", "kwargs"}; the
-- worker looks the document type up in its registry. An unknown doctype, name or method fails
-- the job with an error that says which.

-- Enqueues a document method and returns the job's id (NULL when deduplicate skipped it).
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
    depends_on   bigint[]    DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql AS $$
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
        depends_on => depends_on);
END
$$;
