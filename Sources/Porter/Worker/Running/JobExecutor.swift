import Foundation
import Logging
import PorterPostgres
import Synchronization
import Tracing

/// Runs one attempt of a claimed job, a Swift handler or an `sql:` function, and says how it
/// ended. It writes nothing about the job itself, except where the job's own transaction ends
/// it (an sql: job; a Swift job through `JobContext.finish`).
struct JobExecutor: Sendable {
    let registry: JobRegistry
    let pool: PQPool
    /// Where sql: jobs' progress is relayed: a pool the jobs never hold, so a relay always
    /// finds a connection while every connection of `pool` runs a job.
    let relayPool: PQPool
    let configuration: WorkerConfiguration
    /// The one timer for the Swift handlers' timeouts.
    let deadlines: JobDeadlines
    let logger: Logger
    /// The span per attempt; nil when the worker's tracer is the no-op one, so an untraced
    /// worker does nothing more per job.
    var tracing: AttemptTracing? = nil

    /// The job's timeout: its own, else its queue's.
    func timeout(of job: ClaimedJob) -> Int {
        QueueConfiguration.timeout(ofJob: job.timeout, queue: job.queue, in: configuration.queues)
    }

    /// Runs the attempt in the calling task and returns how it ended. A Swift handler that
    /// ignores its cancellation past the grace is let go: `abandoned` gets its end then, and
    /// this returns the same end whenever the handler returns (`SupervisedHandler.runHere`).
    func run(_ attempt: JobAttempt, abandoned: @escaping @Sendable (AttemptEnd) -> Void) async -> AttemptEnd {
        guard let tracing else { return await runAttempt(attempt, abandoned: abandoned) }
        let job = attempt.job
        return await tracing.run(
            attempt, maxAttempts: job.maxAttempts ?? configuration.queue(job.queue).maxAttempts,
            maxOrphaned: configuration.maxOrphaned
        ) {
            await runAttempt(attempt, abandoned: abandoned)
        }
    }

    private func runAttempt(_ attempt: JobAttempt, abandoned: @escaping @Sendable (AttemptEnd) -> Void) async -> AttemptEnd {
        let job = attempt.job
        if job.method.hasPrefix(SQLJobMethod.prefix) {
            return await runSQL(attempt)
        }
        guard let handler = registry.handler(for: job.method) else {
            return .threw(registry.unknownMethodMessage(job.method), permanent: true)
        }
        var context = JobContext(
            id: job.id, method: job.method, queue: job.queue, attempt: job.attempt, logger: logger, pool: pool)
        context.workerAttempt = attempt
        context.registry = registry
        context.queues = configuration.queues
        context.tracer = tracing?.tracer
        // Once JobContext.finish committed, the job is finished, whatever the handler did next.
        let ended: @Sendable (AttemptEnd) -> AttemptEnd = { end in
            attempt.hasEndedInItsOwnTransaction ? .finishedInOwnTransaction : end
        }
        let end = await SupervisedHandler.runHere(
            timeout: .seconds(timeout(of: job)), cancelGrace: configuration.cancelGrace, control: attempt.control,
            logger: { [context] in context.logger }, timer: .shared(deadlines), abandoned: { abandoned(ended($0)) }
        ) {
            try await handler(job.args, context)
        }
        return ended(end)
    }

    /// Runs `schema.function(args jsonb)` and the job's end in one transaction, under
    /// `SET LOCAL statement_timeout`: its effects and `finished` commit together or not at all.
    /// The function runs only if its owner is trusted (`SQLFunctionOwner`), as read in that
    /// transaction just before the call.
    /// Its progress is relayed while it runs (`ProgressRelay`).
    private func runSQL(_ attempt: JobAttempt) async -> AttemptEnd {
        let job = attempt.job
        let target: SQLJobMethod
        do {
            target = try SQLJobMethod(job.method, schemas: configuration.sqlSchemas, functions: configuration.sqlFunctions)
        } catch {
            return .threw("\(error)", permanent: true)
        }
        let seconds = timeout(of: job)
        let (pool, relayPool, logger, sqlOwners) = (pool, relayPool, logger, configuration.sqlOwners)
        // A task of its own, so that a stop request can cancel it: the pool then sends the
        // server a cancel, and the transaction rolls back. A cancel that comes between two
        // statements finds none to cancel, so the call checks for it first, and every stop
        // request also cancels what the transaction runs then (`porter cancel` asks again at
        // each heartbeat until the job ends).
        let transactionConnection = Mutex<PQConnection?>(nil)
        let work = Task {
            // The transaction sends the job's end event; its start event must be out first.
            await attempt.waitForStartedEvent()
            try Task.checkCancellation()
            let relay = ProgressRelay(job: job.id, pool: relayPool, logger: logger)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await relay.run() }
                do {
                    try await pool.withTransaction { transaction in
                        transactionConnection.withLock { $0 = transaction }
                        defer { transactionConnection.withLock { $0 = nil } }
                        transaction.setNoticeHandler(relay.noticeHandler)
                        defer { transaction.setNoticeHandler(nil) }
                        let prepared = try transaction.query(
                            JobRunQueries.prepareSQLJob(
                                id: job.id, timeoutSeconds: seconds, schema: target.schema, function: target.function,
                                owners: sqlOwners)
                        ).first
                        // Judged as the function is now, in the transaction that calls it.
                        guard let owner = try prepared.flatMap({ try SQLFunctionOwner(row: $0) }) else {
                            throw SQLFunctionOwner.missing(target)
                        }
                        if let refusal = owner.refusal(for: target, sqlOwners: sqlOwners) { throw refusal }
                        try Task.checkCancellation()
                        let result = try transaction.query(
                            "SELECT pg_catalog.to_jsonb(r) FROM \(identifier: target.schema).\(identifier: target.function)(\(job.args)::jsonb) AS r LIMIT 1"
                        ).singleOptional(PQJSON.self)
                        // Its last progress is stored and published before its end commits.
                        await relay.finish()
                        // False: a rescuer gave the job to someone else. Roll its effects back.
                        guard try attempt.write(JobTransition(status: .finished, result: result), on: transaction) else {
                            throw LostJob()
                        }
                    }
                } catch {
                    await relay.finish()
                    throw error
                }
            }
        }
        attempt.control.onStop {
            work.cancel()
            // Under the lock: once the transaction's body has let go of its connection, that
            // connection may be running someone else's statement, which this must not cancel.
            // (cancelRunningStatement only picks the statement and hands the request to a
            // thread of its own, so the lock is held briefly.)
            transactionConnection.withLock { $0?.cancelRunningStatement() }
        }
        do {
            try await work.value
            return .finishedInOwnTransaction
        } catch let refusal as SQLFunctionOwner.Refusal {
            // Nothing ran: the transaction rolled back before the call.
            return .threw(refusal.description, permanent: refusal.permanent)
        } catch is LostJob {
            logger.info(
                "job was rescued from this worker while it ran; its effects were rolled back",
                metadata: ["porter.job.id": "\(job.id)"])
            return .lostClaim
        } catch {
            if let reason = attempt.control.stopReason { return reason.end }
            if let error = error as? PQError, error.sqlState == .queryCanceled {
                return .timedOut(seconds: seconds)
            }
            // The transaction died with its connection (a failover, a restart, a killed
            // backend): its work rolled back, which is no failure of the job's own.
            if let error = error as? PQError, error.isConnectionLost {
                return .connectionLost(error.description)
            }
            return .threw(AttemptEnd.describe(error), permanent: false)
        }
    }

    private struct LostJob: Error {}
}
