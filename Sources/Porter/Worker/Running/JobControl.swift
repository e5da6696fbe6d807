import Foundation
import Synchronization

/// The way to stop a running attempt early: `porter cancel`, shutdown once the grace period is
/// over, a heartbeat that finds the job is no longer this worker's, or the worker fencing
/// itself off.
final class JobControl: Sendable {
    enum StopReason: Sendable, Equatable {
        /// `porter cancel`.
        case canceled
        /// The worker is shutting down and the grace period is over.
        case shutdown
        /// The database no longer shows the job as this worker's: a rescuer gave it away, or
        /// its claim was lost in a server crash.
        case lostClaim
        /// This worker has committed no heartbeat for three quarters of `rescue_after`: a
        /// rescuer may soon give the job to another worker, so this one stops it first
        /// (`WorkerFence`).
        case fenced

        /// How an attempt stopped for this reason ended.
        var end: AttemptEnd {
            switch self {
            case .canceled: .canceled
            case .shutdown: .stoppedByShutdown
            case .lostClaim: .lostClaim
            case .fenced:
                .connectionLost(
                    "this worker lost contact with the database and stopped the job itself, before a rescuer could give it to another worker")
            }
        }
    }

    private struct State {
        var reason: StopReason?
        var onStop: (@Sendable () -> Void)?
    }

    /// A Mutex rather than a lock object: one allocation less for every job.
    private let state = Mutex(State())

    /// Why the attempt was asked to stop, if it was.
    var stopReason: StopReason? { state.withLock { $0.reason } }

    /// Asks the attempt to stop. The first reason wins.
    func stop(_ reason: StopReason) {
        let action = state.withLock { state -> (@Sendable () -> Void)? in
            if state.reason == nil { state.reason = reason }
            return state.onStop
        }
        action?()
    }

    /// Forgets what stopping does, once there is nothing left to stop. The action usually
    /// holds what holds this control, a cycle that this breaks.
    func clearOnStop() {
        state.withLock { $0.onStop = nil }
    }

    /// Sets what stopping does; runs it at once if a stop already came.
    func onStop(_ action: @escaping @Sendable () -> Void) {
        let alreadyStopped = state.withLock { state -> Bool in
            state.onStop = action
            return state.reason != nil
        }
        if alreadyStopped { action() }
    }
}
