-- 0004: scheduler state, so any number of schedulers fire each event exactly once.
--
-- porter.schedule holds, per (event, method), when it fired last and when it fires next; a
-- scheduler locks the row (SKIP LOCKED) to fire it, so only one scheduler handles an entry at
-- a time, and a restart or a new scheduler picks up where the others left off. Each fire is
-- also recorded under a unique key in porter.schedule_fires, in the same transaction as its
-- job: the same (event, method, fire time) can never be enqueued twice.

CREATE TABLE porter.schedule (
    -- all, hourly, daily, weekly, monthly, yearly, their _long variants, or cron:<expression>.
    event        text        NOT NULL,
    method       text        NOT NULL,
    queue        text        NOT NULL,
    last_fire_at timestamptz,
    next_fire_at timestamptz NOT NULL,
    CONSTRAINT schedule_pkey PRIMARY KEY (event, method)
);

CREATE TABLE porter.schedule_fires (
    event    text        NOT NULL,
    method   text        NOT NULL,
    fire_at  timestamptz NOT NULL,
    -- The job enqueued, or NULL when the run was skipped because the previous one was still active.
    job      bigint,
    fired_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT schedule_fires_pkey PRIMARY KEY (event, method, fire_at)
);
