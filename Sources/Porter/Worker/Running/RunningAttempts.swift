import Foundation

/// The attempts a worker process has running, so that a cancel request, a heartbeat that
/// finds a claim lost, or shutdown can reach them.
final class RunningAttempts: @unchecked Sendable {
    private let lock = NSLock()
    private var attempts: [JobAttempt.Key: JobAttempt] = [:]

    func add(_ attempt: JobAttempt) {
        lock.withLock { attempts[attempt.key] = attempt }
    }

    func remove(_ attempt: JobAttempt) {
        _ = lock.withLock { attempts.removeValue(forKey: attempt.key) }
    }

    /// Stops one attempt, if it runs here.
    func stop(_ key: JobAttempt.Key, _ reason: JobControl.StopReason) {
        lock.withLock { attempts[key] }?.control.stop(reason)
    }

    /// Stops every attempt of a job here (`porter cancel`).
    func stop(job id: Int64, _ reason: JobControl.StopReason) {
        for attempt in lock.withLock({ attempts.values.filter { $0.job.id == id } }) { attempt.control.stop(reason) }
    }

    /// Stops every attempt running here.
    func stopAll(_ reason: JobControl.StopReason) {
        for attempt in lock.withLock({ Array(attempts.values) }) { attempt.control.stop(reason) }
    }

    var keys: [JobAttempt.Key] { lock.withLock { Array(attempts.keys) } }
}
