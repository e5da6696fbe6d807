import Foundation
import Logging
import PorterPostgres

/// Runs one claimed job, a Swift handler or an `sql:` function, and says how it ended.
struct JobRunner: Sendable {
    let registry: JobRegistry
    let pool: PostgresPool
    let configuration: WorkerConfiguration
    let workerID: String
    /// Sends the jobs' `started` events; a job ending in its own transaction waits for its own.
    let completer: JobCompleter
    /// The one timer for the Swift handlers' timeouts.
    let deadlines: JobDeadlines
    let logger: Logger

    /// The job's timeout: its own, else its queue's.
    func timeout(of job: ClaimedJob) -> Int {
        job.timeout ?? configuration.queue(job.queue).timeout
    }

    func run(_ job: ClaimedJob, control: JobControl) async -> JobOutcome {
        if job.method.hasPrefix(SQLJobMethod.prefix) {
            return await runSQL(job, control: control)
        }
        guard let handler = registry.handler(for: job.method) else {
            return .failed(
                error: "unknown method \(job.method): no handler is registered for it in this worker (registered: \(registry.methods.joined(separator: ", ")))",
                retryable: false)
        }
        var context = JobContext(
            id: job.id, method: job.method, queue: job.queue, attempt: job.attempt, logger: logger, pool: pool)
        let finishing = FinishingTransaction(id: job.id, attempt: job.attempt, workerID: workerID) { [completer] in
            await completer.startedEventSent(job.run)
        }
        context.finishing = finishing
        context.registry = registry
        context.queues = configuration.queues
        let outcome = await HandlerRace.run(
            timeout: .seconds(timeout(of: job)), cancelGrace: configuration.cancelGrace, control: control,
            logger: context.logger, deadlines: deadlines
        ) { [context] in
            try await handler(job.args, context)
        }
        // The handler finished the job in its own transaction (JobContext.finish).
        return finishing.isCommitted ? .alreadyCompleted : outcome
    }

    /// Runs `schema.function(args jsonb)` and the job's completion in one transaction, under
    /// `SET LOCAL statement_timeout`: its effects and `finished` commit together or not at all.
    private func runSQL(_ job: ClaimedJob, control: JobControl) async -> JobOutcome {
        let target: SQLJobMethod
        do {
            target = try SQLJobMethod(job.method, allowed: configuration.sqlSchemas)
        } catch {
            return .failed(error: "\(error)", retryable: false)
        }
        let seconds = timeout(of: job)
        let workerID = workerID
        let pool = pool
        // A task of its own, so that a stop request can cancel it: the pool then sends the
        // server a cancel, and the transaction rolls back.
        let work = Task { [completer] in
            // The transaction sends the job's end event; its start event must be out first.
            await completer.startedEventSent(job.run)
            try Task.checkCancellation()
            try await pool.withTransaction { transaction in
                try transaction.query(
                    "SELECT set_config('statement_timeout', \(String(seconds * 1000)), true), set_config('porter.current_job_id', \(String(job.id)), true)")
                let result = try transaction.query(
                    "SELECT to_jsonb(r) FROM \(identifier: target.schema).\(identifier: target.function)(\(job.args)::jsonb) AS r LIMIT 1"
                ).singleOptional(PostgresJSON.self)
                let updated = try transaction.query(
                    WorkerQueries.finishInTransaction(id: job.id, attempt: job.attempt, workerID: workerID, result: result)
                ).affectedRows
                // Zero rows: a rescuer gave the job to someone else. Roll its effects back.
                if updated == 0 { throw LostJob() }
            }
        }
        control.onStop { work.cancel() }
        do {
            try await work.value
            return .alreadyCompleted
        } catch is LostJob {
            logger.info(
                "job was rescued from this worker while it ran; its effects were rolled back",
                metadata: ["porter.job.id": "\(job.id)"])
            return .alreadyCompleted
        } catch {
            if let reason = control.stopReason { return reason.outcome }
            if let error = error as? PostgresError, error.sqlState == .queryCanceled {
                return .failed(error: "timed out after \(seconds) s", retryable: true)
            }
            return .failed(error: HandlerRace.describe(error), retryable: true)
        }
    }

    private struct LostJob: Error {}
}

/// `sql:schema.function`, checked against the schemas the config allows.
struct SQLJobMethod: Sendable {
    static let prefix = "sql:"
    var schema: String
    var function: String

    init(_ method: String, allowed: Set<String>) throws {
        let name = method.dropFirst(Self.prefix.count)
        let parts = name.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw PorterError(
                code: .invalidArgument(parameter: "method"),
                message: "\(method) is not of the form sql:schema.function")
        }
        schema = String(parts[0])
        function = String(parts[1])
        guard allowed.contains(schema) else {
            throw PorterError(
                code: .invalidArgument(parameter: "method"),
                message: "schema \(schema) is not allowed for sql: jobs; add it to \"sql_schemas\" in the config, e.g. {\"sql_schemas\": [\"\(schema)\"]}")
        }
    }
}
