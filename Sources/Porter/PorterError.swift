import PorterPostgres

/// An error from Porter's queue core. Database errors keep the `PQError` (and so its
/// SQLSTATE) in `underlying`.
public struct PorterError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: Sendable, Hashable {
        /// An enqueue argument was refused; `parameter` names it (`method`, `args`, `queue`, ...).
        case invalidArgument(parameter: String)
        /// An active job already has this `job_id` and `deduplicate` was not set.
        case duplicateJob(jobID: String)
        /// No handler is registered for the method.
        case unknownMethod(String)
        /// A document job names a doctype no document type is registered for.
        case unknownDoctype(String)
        /// A document job names a record its document type could not load.
        case documentNotFound(doctype: String, name: String)
        /// A document job names a method its document type does not have.
        case unknownDocumentMethod(doctype: String, method: String)
        /// No job has this id.
        case jobNotFound(Int64)
        /// A job run inline (`now`) failed or timed out; the message says which.
        case jobFailed
        /// The job is not in a state that allows the operation (e.g. retrying a queued job).
        case invalidState
        /// The database has no (or an older) Porter schema: run `porter migrate`.
        case schemaMissing
        /// A migration this database applied has another text than the one this Porter ships
        /// (its checksum differs): a released migration never changes. The message names it.
        case migrationChanged(version: Int)
        /// The worker's server sessions are shared with other clients (PgBouncer in transaction
        /// pooling mode), so prepared statements cannot work: run it with `--poll-only`.
        case sharedServerSession
        /// The worker's search_path puts a schema before pg_catalog, where a role could plant
        /// an operator or function that runs as the worker; the message names the schema.
        case unsafeSearchPath
        /// Any other database error; see `underlying`.
        case database
    }

    /// What went wrong, to match on: `catch let error as PorterError where error.code == .duplicateJob(jobID: "sync-A1")`.
    public var code: Code
    /// What happened and what to do next.
    public var message: String
    /// The database error this came from, with its SQLSTATE.
    public var underlying: PQError?

    /// An error with its code, a message that says what to do, and the database error behind it.
    public init(code: Code, message: String, underlying: PQError? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// The SQLSTATE of the database error behind this one, if any.
    public var sqlState: SQLState? { underlying?.sqlState }

    /// The message, the server's hint when there is one, and the SQLSTATE:
    /// `porter.enqueue: job_id 'sync-A1' is already queued or running (pass deduplicate => true ...) [SQLSTATE 23505]`.
    public var description: String {
        var text = message
        if let hint = underlying?.hint { text += " (\(hint))" }
        if let sqlState { text += " [SQLSTATE \(sqlState.rawValue)]" }
        return text
    }

    /// A missing schema, table or function of Porter's means the database was never migrated
    /// (or is behind this code); other errors pass through.
    package static func schemaMissing(_ error: any Error) -> any Error {
        guard let error = error as? PQError,
            error.sqlState == .undefinedTable || error.sqlState == .undefinedFunction
                || error.sqlState == SQLState("3F000"),
            error.message.contains("porter.") || error.message.contains("\"porter\"")
        else { return error }
        return PorterError(
            code: .schemaMissing,
            message: "\(error.message): this database has no Porter schema or an older one; run `porter migrate` (or call PorterClient.migrate())",
            underlying: error)
    }

    /// Translates the enqueue functions' errors into typed ones; others pass through.
    package static func fromEnqueue(_ error: any Error, jobID: String?) -> any Error {
        guard let error = error as? PQError, let sqlState = error.sqlState else { return error }
        if sqlState == .undefinedFunction || sqlState == .undefinedTable || sqlState == SQLState("3F000") {
            return schemaMissing(error)
        }
        if sqlState == .uniqueViolation && error.constraint == "jobs_job_id_active_key" {
            return PorterError(code: .duplicateJob(jobID: jobID ?? ""), message: error.message, underlying: error)
        }
        if let column = error.column,
            sqlState == .invalidParameterValue || sqlState == .nullValueNotAllowed || sqlState == .programLimitExceeded
        {
            return PorterError(code: .invalidArgument(parameter: column), message: error.message, underlying: error)
        }
        return error
    }
}
