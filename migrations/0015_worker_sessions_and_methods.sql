-- 0015: a dead worker is found by its session ending, and workers say what they can run.
--
-- A worker killed with SIGKILL was found dead only once its heartbeat was rescue_after (20 s)
-- old. Its database sessions, though, end the moment the process dies: the kernel closes its
-- sockets. Each worker now holds a session-level advisory lock, pg_advisory_lock(<Porter's
-- namespace>, lock_key), on a connection of its own for its whole life; a rescuer that can take
-- that lock knows the session is gone. The lock is released with the session, so a live
-- worker whose session ended (a server restart, a failover) must get time to reconnect and
-- take a new one: a rescuer only records when it first found the lock free
-- (session_lost_at), and declares the worker dead if it is still free a grace period later.
-- Workers behind PgBouncer's transaction pooling cannot hold a session lock: their lock_key
-- is NULL and the heartbeat alone decides, as before.
--
-- During a rolling deploy, a worker of the old build claimed jobs only the new build knows
-- and failed them for good. methods lists what a worker can run (see HandlerCoverage), so a
-- worker that claims a job it cannot run can tell whether a live worker can, and hand it
-- back untouched instead.
ALTER TABLE porter.workers
    -- The second key of the worker's session advisory lock; NULL when it holds none.
    ADD COLUMN lock_key integer,
    -- When a rescuer first found the worker's session lock free; NULL while it is held.
    ADD COLUMN session_lost_at timestamptz,
    -- What the worker can run: method names, sql:<schema>.* and
    -- porter.run_doc_method:<doctype>.<method>. NULL for a worker of an older build.
    ADD COLUMN methods text[];
