-- 0011: indexes for the pruning every worker's maintenance runs every few seconds.
--
-- Scheduler fires are kept for a week and stored realtime messages for a day. Without an
-- index each pass read the whole table: a week of fires of a few "all" events is hundreds of
-- thousands of rows, scanned by every worker every maintenance interval.

-- Serves DELETE FROM porter.schedule_fires WHERE fired_at < now() - interval '7 days'.
CREATE INDEX schedule_fires_fired_at_idx ON porter.schedule_fires (fired_at);

-- Serves DELETE FROM porter.realtime_messages WHERE created_at < now() - interval '1 day'.
CREATE INDEX realtime_messages_created_at_idx ON porter.realtime_messages (created_at);
