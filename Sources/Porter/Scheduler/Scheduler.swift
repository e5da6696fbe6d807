import Foundation
import Logging
import PorterPostgres
import ServiceLifecycle

/// Fires Frappe-style scheduler events: enqueues each (event, method, fire time) exactly once,
/// however many schedulers run.
///
/// Each entry's next fire time lives in `porter.schedule`. On a tick, a scheduler locks each
/// due entry (SKIP LOCKED, so schedulers never wait on each other), records the fire under a
/// unique key in `porter.schedule_fires`, enqueues the job and moves the entry on, all in one
/// transaction. After downtime a missed event fires once, for its latest missed time. A new
/// entry's first fire is its next scheduled time, never now. A method whose previous scheduled
/// run is still queued or running is skipped for this fire and logged (job_id
/// `scheduled:<method>`, deduplicated), so one stuck job never blocks the other methods.
public struct Scheduler: Service {
    /// What one tick did.
    public struct TickResult: Sendable, Hashable {
        /// (event, method, job id) of every job enqueued.
        public var fired: [Fired] = []
        /// (event, method) of every run skipped because the previous one was still active.
        public var skipped: [String] = []

        /// One job a tick enqueued.
        public struct Fired: Sendable, Hashable {
            /// The event that fired (`hourly`, `cron:15 18 * * *`, ...).
            public var event: String
            /// The method it enqueued.
            public var method: String
            /// The scheduled time it fired for (not when the tick ran).
            public var fireAt: Date
            /// The enqueued job's id.
            public var job: Int64
        }
    }

    /// One entry as `porter schedule` lists it.
    public struct Entry: Sendable, Hashable {
        /// The event's name (`all`, `hourly`, `daily_long`, `cron:<expression>`).
        public var event: String
        /// The method it enqueues.
        public var method: String
        /// The queue it enqueues on.
        public var queue: String
        /// When it last fired; `nil` if it never has.
        public var lastFireAt: Date?
        /// When it fires next; `nil` if it never will (a cron date that does not occur).
        public var nextFireAt: Date?
    }

    /// The events this scheduler fires, its tick and its time zone.
    public let configuration: ScheduleConfiguration
    private let client: PorterClient
    private let logger: Logger
    private let now: @Sendable () -> Date

    /// A scheduler; `now` is its clock, injectable for tests.
    public init(
        client: PorterClient, configuration: ScheduleConfiguration, logger: Logger? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.client = client
        self.configuration = configuration
        self.logger = logger ?? client.logger
        self.now = now
    }

    /// Registers the configured events, then ticks every `tickInterval` until graceful
    /// shutdown. A tick that fails (the database away) is logged and tried again next tick.
    public func run() async throws {
        try await register(now: now())
        logger.info("scheduler started", metadata: ["porter.scheduler.events": "\(configuration.events.count)"])
        let tick = configuration.tickInterval.seconds
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Wake on tick boundaries, which every scheduler shares.
            let current = now().timeIntervalSince1970
            let wait = ((current / tick).rounded(.down) + 1) * tick - current
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(fraction: wait + 0.01)) }
            if Task.isCancelled || Task.isShuttingDownGracefully { break }
            do {
                try await self.tick(now: now())
            } catch {
                logger.info("scheduler tick failed; trying again next tick", metadata: ["error": "\(error)"])
            }
        }
        logger.info("scheduler stopped")
    }

    /// Registers every configured entry (new ones get their first fire time after `now`) and
    /// removes entries no longer configured.
    public func register(now: Date) async throws {
        let events = configuration.events
        try await client.pool.withTransaction { transaction in
            for event in events {
                guard let next = event.nextFire(after: now, tick: configuration.tickInterval, zone: configuration.timeZone) else { continue }
                try transaction.query(SchedulerQueries.register(event, next: next))
            }
            try transaction.query(SchedulerQueries.removeAllExcept(events: events.map(\.name), methods: events.map(\.method)))
        }
    }

    /// Fires every entry due at `now`. Safe to run from any number of schedulers at once.
    @discardableResult
    public func tick(now: Date) async throws -> TickResult {
        var result = TickResult()
        for event in configuration.events {
            let outcome = try await fire(event, now: now)
            switch outcome {
            case .fired(let fired): result.fired.append(fired)
            case .skipped: result.skipped.append("\(event.name) \(event.method)")
            case .notDue: break
            }
        }
        return result
    }

    private enum Outcome: Sendable {
        case fired(TickResult.Fired)
        case skipped
        case notDue
    }

    private func fire(_ event: ScheduledEvent, now: Date) async throws -> Outcome {
        let client = client
        let configuration = configuration
        let logger = logger
        return try await client.pool.withTransaction { transaction in
            guard let due = try transaction.query(SchedulerQueries.lock(event)).singleOptional(Date.self), due <= now else {
                return .notDue  // not due, unregistered, or another scheduler holds it
            }
            // Missed fires collapse into one: the latest scheduled time not after now.
            var fireAt = due
            var steps = 0
            while let next = event.nextFire(after: fireAt, tick: configuration.tickInterval, zone: configuration.timeZone),
                next <= now, steps < 1_000_000
            {
                fireAt = next
                steps += 1
            }
            let next = event.nextFire(after: now, tick: configuration.tickInterval, zone: configuration.timeZone)
                ?? Date.distantFuture
            try transaction.query(SchedulerQueries.advance(event, lastFire: fireAt, next: next))
            guard try transaction.query(SchedulerQueries.recordFire(event, at: fireAt)).first != nil else {
                return .notDue  // this exact fire is already recorded
            }
            let request = EnqueueRequest(
                method: event.method,
                options: EnqueueOptions(queue: event.queue, jobID: "scheduled:\(event.method)", deduplicate: true))
            switch try await client.enqueue(request, on: transaction) {
            case .enqueued(let id):
                try transaction.query(SchedulerQueries.setFireJob(event, at: fireAt, job: id))
                return .fired(TickResult.Fired(event: event.name, method: event.method, fireAt: fireAt, job: id))
            case .duplicate, .ranInline:
                logger.info(
                    "skipped a scheduled run: the previous run of this method is still queued or running",
                    metadata: ["porter.scheduler.event": "\(event.name)", "porter.job.method": "\(event.method)"])
                return .skipped
            }
        }
    }

    /// Every configured entry with its last and next fire time.
    public func entries() async throws -> [Entry] {
        var stored: [String: (Date?, Date)] = [:]
        for row in try await client.pool.query(SchedulerQueries.list) {
            let (event, method, _, last, next) = try row.decode((String, String, String, Date?, Date).self)
            stored["\(event)\u{0}\(method)"] = (last, next)
        }
        let current = now()
        return configuration.events.map { event in
            let state = stored["\(event.name)\u{0}\(event.method)"]
            return Entry(
                event: event.name, method: event.method, queue: event.queue, lastFireAt: state?.0,
                nextFireAt: state?.1 ?? event.nextFire(after: current, tick: configuration.tickInterval, zone: configuration.timeZone))
        }
    }
}
