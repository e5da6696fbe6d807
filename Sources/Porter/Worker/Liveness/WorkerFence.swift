import Foundation
import Logging

/// A worker's self-fencing: the guard against running a job that a rescuer has given to
/// another worker.
///
/// A rescuer gives a worker's jobs away once the worker's last committed heartbeat is
/// `rescue_after` old, by the database's clock. A worker cut off from the database (a frozen
/// link, a partition) cannot know when that happens, but it knows when it sent its last
/// heartbeat that committed: the database stamped it no earlier. So once no heartbeat has
/// committed for `fenceAfter` (three quarters of `rescue_after`), it stops claiming and stops
/// its running attempts, which go back in the queue; the last quarter is their time to stop.
/// When a heartbeat commits again, the fence lifts and claiming resumes.
final class WorkerFence: @unchecked Sendable {
    private let fenceAfter: Duration
    private let logger: Logger
    private let lock = NSLock()
    private var lastHeartbeat: ContinuousClock.Instant
    private var fenced = false

    init(fenceAfter: Duration, logger: Logger) {
        self.fenceAfter = fenceAfter
        self.logger = logger
        self.lastHeartbeat = .now
    }

    /// Whether the worker is fenced off: it must not claim, and must stop what it claims.
    var isFenced: Bool { lock.withLock { fenced } }

    /// A heartbeat sent at `sentAt` has committed.
    func heartbeatCommitted(sentAt: ContinuousClock.Instant) {
        lock.withLock { lastHeartbeat = max(lastHeartbeat, sentAt) }
    }

    /// Watches the heartbeats until cancelled: fences the worker off, stopping every attempt
    /// in `running`, once the last committed one is `fenceAfter` old, and lifts the fence
    /// (calling `lifted`, to wake the claimers) once a heartbeat commits again.
    func run(running: RunningAttempts, lifted: @Sendable () -> Void) async {
        while !Task.isCancelled {
            let (change, age) = lock.withLock { () -> (Bool?, Duration) in
                let age = ContinuousClock.now - lastHeartbeat
                let overdue = age >= fenceAfter
                guard overdue != fenced else { return (nil, age) }
                fenced = overdue
                return (overdue, age)
            }
            switch change {
            case true?:
                logger.warning(
                    "no heartbeat has committed for \(age); stopping this worker's jobs and claims before a rescuer gives them to another worker",
                    metadata: ["porter.fence_after": "\(fenceAfter)"])
                running.stopAll(.fenced)
            case false?:
                logger.warning("heartbeats commit again; claiming jobs again")
                lifted()
            case nil:
                break
            }
            // Fenced, look for the heartbeat that lifts it often; otherwise the fence cannot
            // come before its deadline, which a heartbeat only moves later.
            let wait = isFenced ? .milliseconds(100) : max(.milliseconds(50), fenceAfter - age)
            try? await Task.sleep(for: wait)
        }
    }
}
