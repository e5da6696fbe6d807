import PorterPostgres

/// How one attempt of a job ended, as the worker saw it, before anything is written.
/// `JobTransition.after(_:...)` turns it into what happens to the job's row.
enum AttemptEnd: Sendable, Hashable {
    /// The handler returned; its result, if any, is stored.
    case returned(PQJSON?)
    /// The handler (or the sql: function) threw. `permanent` marks failures another attempt
    /// cannot fix: an unknown method, a schema not allowed, arguments that do not decode.
    case threw(String, permanent: Bool)
    /// The job's timeout passed first.
    case timedOut(seconds: Int)
    /// `porter cancel` stopped it while it ran.
    case canceled
    /// The worker is shutting down and the grace period is over: the job goes back untouched.
    case stoppedByShutdown
    /// The database no longer shows the job as this attempt's: a rescuer gave it away, or the
    /// claim was lost in a server crash. Nothing is written; the row belongs to someone else.
    case lostClaim
    /// The job's own transaction (an sql: job, `JobContext.finish`) already wrote its end.
    case finishedInOwnTransaction
    /// The attempt's transaction or completion died with its connection (SQLSTATE class 08,
    /// 57P01–57P03, or the server gone), or this worker lost contact with the database and
    /// stopped it (self-fencing). The work rolled back and is not the job's fault: the job goes
    /// back in the queue without using an attempt, and counts one more in `orphaned`.
    case connectionLost(String)
    /// This worker cannot run the job's method and another live worker can: the job goes back
    /// untouched, as if never claimed.
    case handedBack

    /// The end of an attempt whose handler threw `error`.
    static func failure(_ error: any Error) -> AttemptEnd {
        if let error = error as? PQError, error.isConnectionLost { return .connectionLost(error.description) }
        return .threw(describe(error), permanent: isPermanent(error))
    }

    /// An error as stored in `porter.jobs.error`.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PorterError { return error.description }
        if let error = error as? PQError { return error.description }
        return "\(type(of: error)): \(error)"
    }

    /// Failures another attempt cannot fix.
    private static func isPermanent(_ error: any Error) -> Bool {
        guard let error = error as? PorterError else { return false }
        switch error.code {
        case .invalidArgument, .unknownMethod, .unknownDoctype, .documentNotFound, .unknownDocumentMethod: return true
        default: return false
        }
    }
}
