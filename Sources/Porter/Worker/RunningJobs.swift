import Foundation

/// The job runs a worker process has going, so that a cancel request or a lost claim can reach
/// them. A run is a job id and an attempt: a job rescued from this worker and claimed by it
/// again runs twice here for a moment, and only the older run has lost its claim.
final class RunningJobs: @unchecked Sendable {
    struct Run: Hashable, Sendable {
        var id: Int64
        var attempt: Int
    }

    private let lock = NSLock()
    private var controls: [Run: JobControl] = [:]

    func add(_ run: Run, _ control: JobControl) {
        lock.withLock { controls[run] = control }
    }

    func remove(_ run: Run) {
        _ = lock.withLock { controls.removeValue(forKey: run) }
    }

    /// Stops one run, if it is going here.
    func stop(_ run: Run, _ reason: JobControl.StopReason) {
        lock.withLock { controls[run] }?.stop(reason)
    }

    /// Stops every run of a job here (`porter cancel`).
    func stop(job id: Int64, _ reason: JobControl.StopReason) {
        for control in lock.withLock({ controls.filter { $0.key.id == id }.map(\.value) }) { control.stop(reason) }
    }

    /// Stops every run going here.
    func stopAll(_ reason: JobControl.StopReason) {
        for control in lock.withLock({ Array(controls.values) }) { control.stop(reason) }
    }

    var runs: [Run] { lock.withLock { Array(controls.keys) } }
}
