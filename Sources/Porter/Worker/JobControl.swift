import Foundation

/// The handle a worker keeps on a running job, to stop it early: `porter cancel`, or
/// shutdown once the grace period is over.
final class JobControl: @unchecked Sendable {
    enum StopReason: Sendable, Equatable {
        /// `porter cancel`.
        case canceled
        /// The worker is shutting down and the grace period is over.
        case shutdown
        /// The database no longer shows the job as this worker's: a rescuer gave it away, or
        /// its claim was lost in a server crash.
        case lost

        /// What is written back for a run stopped for this reason.
        var outcome: JobOutcome {
            switch self {
            case .canceled: .canceled
            case .shutdown: .requeue
            case .lost: .alreadyCompleted
            }
        }
    }

    private let lock = NSLock()
    private var reason: StopReason?
    private var onStop: (@Sendable () -> Void)?

    /// Why the job was asked to stop, if it was.
    var stopReason: StopReason? { lock.withLock { reason } }

    /// Asks the job to stop. The first reason wins.
    func stop(_ reason: StopReason) {
        let action = lock.withLock { () -> (@Sendable () -> Void)? in
            if self.reason == nil { self.reason = reason }
            return onStop
        }
        action?()
    }

    /// Sets what stopping does; runs it at once if a stop already came.
    func onStop(_ action: @escaping @Sendable () -> Void) {
        let alreadyStopped = lock.withLock { () -> Bool in
            onStop = action
            return reason != nil
        }
        if alreadyStopped { action() }
    }
}
