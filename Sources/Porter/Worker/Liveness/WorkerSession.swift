import Foundation
import Logging
import PorterPostgres

/// A worker process's own session with the database, on a connection of its own for the
/// worker's life.
///
/// It holds the worker's session advisory lock, whose release tells rescuers at once that the
/// process died (`MaintenanceQueries.rescue`), registers the worker in `porter.workers`, and
/// commits a heartbeat every `heartbeat_interval`. At each heartbeat it stops any job it runs
/// that the database no longer shows as its own, hands back the jobs the database shows as its
/// own that it never received (`OwnedAttempts`), and picks up cancel requests. Every
/// `sessionProbeInterval` it probes the other workers' sessions and rescues the jobs of the
/// dead ones. A heartbeat on the shared pool could wait behind jobs holding every connection;
/// this one never does.
///
/// When the session ends while the process lives (a server restart, a failover, a killed
/// backend), the lock goes with it; the socket is checked before every probe, twice a second,
/// so the session reconnects, takes a new lock and registers again well within the grace
/// rescuers give it (2 s), then stops the jobs a rescuer may have given away meanwhile. A `poll_only` worker
/// (PgBouncer's transaction pooling, where a session lock would stay on a server connection
/// other clients share) holds no lock, and only its heartbeat tells rescuers it lives.
actor WorkerSession {
    /// What the worker registers in `porter.workers`, and reports at every heartbeat.
    struct Registration: Sendable {
        /// The worker's id.
        var id: String
        /// The queues it serves.
        var queues: [String]
        /// The methods it can run (`HandlerCoverage.names`).
        var methods: [String]
        /// Its figures for porter.stats(), read at registration and every heartbeat.
        var report: @Sendable () -> PQJSON
    }

    let id: String
    private let queues: [String]
    private let methods: [String]
    private let connectionConfiguration: PQConfiguration
    private let configuration: WorkerConfiguration
    private let contact: DatabaseContact
    /// Shared with the worker's other loops, so that an outage is logged once.
    private let outage: DatabaseOutage
    /// This worker's figures for porter.stats(), written at registration and every heartbeat.
    private let report: @Sendable () -> PQJSON
    private let logger: Logger
    private var connection: PQConnection?
    /// What the held-jobs checks found held in the database but unknown to this worker.
    private var lostClaims = LostClaims()

    init(
        registration: Registration, connection: PQConfiguration, configuration: WorkerConfiguration,
        contact: DatabaseContact, outage: DatabaseOutage, logger: Logger
    ) {
        self.id = registration.id
        self.queues = registration.queues
        self.methods = registration.methods
        self.report = registration.report
        self.connectionConfiguration = connection
        self.configuration = configuration
        self.contact = contact
        self.outage = outage
        self.logger = logger
    }

    /// Connects, takes the session lock and registers. Throws what the connection or the
    /// registration throws.
    func open(fence: WorkerFence) async throws {
        let connection = try await PQConnection.connect(connectionConfiguration, logger: logger)
        do {
            let sentAt = ContinuousClock.now
            try await register(on: connection)
            fence.heartbeatCommitted(sentAt: sentAt)
            contact.reached()
            self.connection = connection
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Heartbeats and probes until cancelled, reconnecting when the session is lost.
    func run(running: RunningAttempts, owned: OwnedAttempts, fence: WorkerFence) async {
        let clock = ContinuousClock()
        var nextHeartbeat = clock.now + configuration.heartbeatInterval
        var nextProbe = clock.now
        var reconnectDelay = Duration.milliseconds(100)
        while !Task.isCancelled {
            try? await Task.sleep(for: max(.zero, min(nextHeartbeat, nextProbe) - clock.now))
            guard !Task.isCancelled else { return }
            guard let connection, await connection.isHealthyAndIdle() else {
                contact.lost()
                await self.connection?.close()
                self.connection = nil
                do {
                    // The session is checked at each heartbeat and probe, so it can find out
                    // after another loop has already seen the database answer again.
                    let duringOutage = outage.isOngoing(
                        orEndedWithin: configuration.heartbeatInterval + configuration.sessionProbeInterval + .seconds(1))
                    let sentAt = ContinuousClock.now
                    try await open(fence: fence)
                    outage.succeeded(sentAt: sentAt)
                    // After an outage, which was warned about once, this is part of its end.
                    logger.log(
                        level: duringOutage ? .info : .warning, "the worker's database session ended; reconnected and registered again")
                    reconnectDelay = .milliseconds(100)
                    nextHeartbeat = clock.now + configuration.heartbeatInterval
                    // While the session was away, a rescuer may have taken this worker for dead.
                    if let connection = self.connection { await checkHeldJobs(running, owned, on: connection) }
                } catch {
                    if !outage.failed(error, during: "reconnect the worker's session") {
                        logger.info("could not reconnect the worker's session; retrying", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: reconnectDelay)
                    reconnectDelay = min(reconnectDelay * 2, .milliseconds(500))
                }
                continue
            }
            if clock.now >= nextHeartbeat {
                nextHeartbeat = clock.now + configuration.heartbeatInterval
                await heartbeat(running, owned, fence: fence, on: connection)
            }
            if clock.now >= nextProbe {
                nextProbe = clock.now + configuration.sessionProbeInterval
                await rescueDeadWorkers(on: connection)
            }
        }
    }

    /// Removes the worker from porter.workers and ends the session, releasing its lock. Called
    /// last at shutdown, once every outcome is written, so that no rescuer takes the worker for
    /// dead while it still writes.
    func close() async {
        if let connection {
            _ = try? await connection.query(WorkerQueries.deregister(id: id))
            await connection.close()
        }
        connection = nil
    }

    // MARK: -

    private func register(on connection: PQConnection) async throws {
        var lockKey: Int32?
        if !configuration.pollOnly {
            // A fresh random key for each session: no other live worker holds it (the lock
            // says so), and a rescuer's probe of the previous session's key finds a changed row.
            for _ in 0..<16 {
                let key = Int32.random(in: 1...Int32.max)
                if try await connection.query(WorkerQueries.takeSessionLock(key: key)).single(Bool.self) {
                    lockKey = key
                    break
                }
            }
            guard lockKey != nil else {
                throw PorterError(code: .invalidState, message: "could not take a free session lock key for this worker in 16 tries")
            }
        }
        try await connection.query(
            WorkerQueries.register(
                id: id, host: ProcessInfo.processInfo.hostName, pid: Int(getpid()), queues: queues, methods: methods,
                lockKey: lockKey, stats: report()))
    }

    /// Probes the other workers' session locks and rescues the jobs of the dead ones; the
    /// rescue statement runs only when the probe finds a worker that may be dead.
    ///
    /// Stale heartbeats count only once this worker has been in contact with the database for
    /// `rescue_after` without a break (`DatabaseContact`): after an outage every worker's
    /// heartbeat is as old as the outage, live ones' included. A free session lock counts only
    /// for a worker that heartbeat recently (see `MaintenanceQueries.rescue`).
    private func rescueDeadWorkers(on connection: PQConnection) async {
        let trustHeartbeats = contact.hasLasted(configuration.rescueAfter)
        do {
            let suspect = try await connection.query(
                MaintenanceQueries.anyWorkerMaybeDead(
                    rescueAfter: configuration.rescueAfter, trustHeartbeats: trustHeartbeats, prober: id)
            ).single(Bool.self)
            guard suspect else { return }
            try await Maintenance.rescue(
                configuration: configuration, logger: logger, everyStartedJob: false, trustHeartbeats: trustHeartbeats,
                prober: id
            ) { try await connection.query($0) }
        } catch {
            contact.failed(error)
            _ = outage.failed(error, during: "rescue probe")
            logger.debug("rescue probe failed; trying again", metadata: ["error": "\(error)"])
        }
    }

    /// Records that this worker is alive, then checks the jobs it holds.
    private func heartbeat(_ running: RunningAttempts, _ owned: OwnedAttempts, fence: WorkerFence, on connection: PQConnection) async {
        let sentAt = ContinuousClock.now
        do {
            if try await connection.query(WorkerQueries.heartbeat(id: id, stats: report())).isEmpty {
                // A rescuer took this worker for dead and gave its jobs away; the check below
                // stops the runs it no longer holds.
                logger.info("this worker was declared dead while running; registering again")
                try await register(on: connection)
            }
            fence.heartbeatCommitted(sentAt: sentAt)
            contact.reached()
            outage.succeeded(sentAt: sentAt)
        } catch {
            contact.failed(error)
            if !outage.failed(error, during: "heartbeat") {
                logger.info("heartbeat failed", metadata: ["error": "\(error)"])
            }
            return
        }
        await checkHeldJobs(running, owned, on: connection)
    }

    /// Compares the jobs the database shows this worker holding with what the worker knows:
    /// stops the runs the database no longer shows as its own, and those `porter cancel` asked
    /// to stop, and hands back the jobs it holds there without knowing it.
    private func checkHeldJobs(_ running: RunningAttempts, _ owned: OwnedAttempts, on connection: PQConnection) async {
        // Read before the query: each of these runs' claims had committed, so a run missing
        // from the answer is no longer this worker's (a rescuer gave the job away, or the claim
        // was lost in a server crash) and must not go on.
        let runningBefore = running.keys
        let ownedBefore = owned.now
        do {
            var held: [JobAttempt.Key: (queue: String, orphaned: Int)] = [:]
            for row in try await connection.query(JobRunQueries.listHeld(workerID: id)) {
                let (job, attempt, cancelRequested, queue, orphaned) = try row.decode((Int64, Int, Bool, String, Int).self)
                let key = JobAttempt.Key(id: job, attempt: attempt)
                held[key] = (queue, orphaned)
                if cancelRequested { running.stop(key, .canceled) }
            }
            for key in runningBefore where held[key] == nil {
                logger.info(
                    "job is no longer held by this worker; stopping this attempt of it",
                    metadata: ["porter.job.id": "\(key.id)", "porter.job.attempt": "\(key.attempt)"])
                running.stop(key, .lostClaim)
            }
            let lost = lostClaims.check(held: Set(held.keys), before: ownedBefore, after: owned.now)
            if !lost.isEmpty {
                try await handBack(lost.map { ($0, held[$0]!) }, on: connection)
            }
        } catch where outage.failed(error, during: "check held jobs") {
            // Logged once per outage; the next heartbeat checks again.
        } catch {
            logger.info("could not check which jobs this worker still holds", metadata: ["error": "\(error)"])
        }
    }

    /// Puts back in the queue jobs this worker holds in the database but never received:
    /// their claim committed, and its answer was lost. They never ran; each goes back as
    /// `JobTransition.afterLostClaimAnswer` says, and their queues' workers are woken.
    private func handBack(_ jobs: [(key: JobAttempt.Key, row: (queue: String, orphaned: Int))], on connection: PQConnection) async throws {
        let transitions = jobs.sorted { $0.key.id < $1.key.id }.map { job in
            (job.key, JobTransition.afterLostClaimAnswer(orphaned: job.row.orphaned, maxOrphaned: configuration.maxOrphaned))
        }
        logger.warning(
            "found jobs held by this worker that it never received (a claim's answer was lost); handing them back",
            metadata: ["porter.jobs": "\(jobs.map(\.key.id).sorted())"])
        try await connection.query(JobRunQueries.endAttempts(transitions, workerID: id, jobEvents: configuration.jobEvents))
        for queue in Set(jobs.map(\.row.queue)).sorted() {
            try await connection.query(JobRunQueries.notifyWaiting(queue: queue))
        }
    }
}
