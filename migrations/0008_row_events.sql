-- 0008: row-event hooks, Frappe's doc_events. A trigger function that enqueues a job for
-- each written row, in the writing transaction: the job exists exactly when the write commits.
--
--   CREATE TRIGGER customers_notify AFTER INSERT OR UPDATE OR DELETE ON customers
--       FOR EACH ROW EXECUTE FUNCTION porter.enqueue_row_event('send_customer_notification', 'short');
--
-- The job's args: {"event": "after_insert" | "on_update" | "on_trash", "table": "schema.table",
-- "row": {...}, "old": {...}}; row is the new row (the deleted row for on_trash), old the row
-- before an update. The first trigger argument is the method, the second the queue (default
-- 'default').

CREATE FUNCTION porter.enqueue_row_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    method text := TG_ARGV[0];
    queue text := coalesce(TG_ARGV[1], 'default');
    args jsonb;
BEGIN
    IF TG_LEVEL <> 'ROW' OR TG_WHEN <> 'AFTER' OR TG_OP NOT IN ('INSERT', 'UPDATE', 'DELETE') THEN
        RAISE EXCEPTION 'porter.enqueue_row_event: trigger % on % must be AFTER INSERT, UPDATE or DELETE ... FOR EACH ROW', TG_NAME, TG_TABLE_NAME
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'CREATE TRIGGER ... AFTER INSERT OR UPDATE OR DELETE ON t FOR EACH ROW EXECUTE FUNCTION porter.enqueue_row_event(''app.method'', ''short'')';
    END IF;
    IF TG_NARGS < 1 OR btrim(method) = '' THEN
        RAISE EXCEPTION 'porter.enqueue_row_event: trigger % on % names no method', TG_NAME, TG_TABLE_NAME
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'method',
                  HINT = 'pass the method as the first trigger argument: EXECUTE FUNCTION porter.enqueue_row_event(''app.method'', ''short'')';
    END IF;
    args := jsonb_build_object(
        'event', CASE TG_OP WHEN 'INSERT' THEN 'after_insert' WHEN 'UPDATE' THEN 'on_update' ELSE 'on_trash' END,
        'table', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME,
        'row', to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END));
    IF TG_OP = 'UPDATE' THEN
        args := args || jsonb_build_object('old', to_jsonb(OLD));
    END IF;
    PERFORM porter.enqueue(method => method, args => args, queue => queue);
    RETURN NULL;
END
$$;
