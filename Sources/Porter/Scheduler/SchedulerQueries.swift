import Foundation
import PorterPostgres

/// The SQL the scheduler runs, in one place.
enum SchedulerQueries {
    /// Registers an entry the first time any scheduler sees it, with its first fire time in
    /// the future (never early); an existing entry keeps its state. Served by schedule_pkey.
    static func register(_ event: ScheduledEvent, next: Date) -> PQQuery {
        """
        INSERT INTO porter.schedule (event, method, queue, next_fire_at)
        VALUES (\(event.name), \(event.method), \(event.queue), \(next))
        ON CONFLICT (event, method) DO UPDATE SET queue = excluded.queue
        """
    }

    /// Forgets entries no longer in the config, so removed events stop.
    static func removeAllExcept(events: [String], methods: [String]) -> PQQuery {
        """
        DELETE FROM porter.schedule s
        WHERE (s.event, s.method) NOT IN (SELECT * FROM ROWS FROM (pg_catalog.unnest(\(events)::text[]), pg_catalog.unnest(\(methods)::text[])))
        """
    }

    /// Locks one entry for firing; another scheduler holding it makes this return no row.
    static func lock(_ event: ScheduledEvent) -> PQQuery {
        """
        SELECT next_fire_at FROM porter.schedule WHERE event = \(event.name) AND method = \(event.method)
        FOR UPDATE SKIP LOCKED
        """
    }

    /// Records a fire under its unique key; no row back means it was already recorded.
    static func recordFire(_ event: ScheduledEvent, at fireAt: Date) -> PQQuery {
        """
        INSERT INTO porter.schedule_fires (event, method, fire_at) VALUES (\(event.name), \(event.method), \(fireAt))
        ON CONFLICT DO NOTHING RETURNING fire_at
        """
    }

    /// Notes the job a fire enqueued.
    static func setFireJob(_ event: ScheduledEvent, at fireAt: Date, job: Int64) -> PQQuery {
        "UPDATE porter.schedule_fires SET job = \(job) WHERE event = \(event.name) AND method = \(event.method) AND fire_at = \(fireAt)"
    }

    /// Moves an entry on to its next fire time.
    static func advance(_ event: ScheduledEvent, lastFire: Date?, next: Date) -> PQQuery {
        """
        UPDATE porter.schedule SET last_fire_at = coalesce(\(lastFire)::timestamptz, last_fire_at), next_fire_at = \(next)
        WHERE event = \(event.name) AND method = \(event.method)
        """
    }

    /// Every entry's state, for `porter schedule`.
    static let list: PQQuery = "SELECT event, method, queue, last_fire_at, next_fire_at FROM porter.schedule ORDER BY event, method"
}
