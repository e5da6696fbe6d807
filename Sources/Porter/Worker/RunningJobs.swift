import Foundation

/// The jobs a worker process is running, by id, so that a cancel request or a lost lease can
/// reach them.
final class RunningJobs: @unchecked Sendable {
    private let lock = NSLock()
    private var controls: [Int64: JobControl] = [:]

    func add(_ id: Int64, _ control: JobControl) {
        lock.withLock { controls[id] = control }
    }

    func remove(_ id: Int64) {
        _ = lock.withLock { controls.removeValue(forKey: id) }
    }

    /// Stops one job, if it runs here.
    func stop(_ id: Int64, _ reason: JobControl.StopReason) {
        lock.withLock { controls[id] }?.stop(reason)
    }

    /// Stops every job running here.
    func stopAll(_ reason: JobControl.StopReason) {
        for control in lock.withLock({ Array(controls.values) }) { control.stop(reason) }
    }

    var ids: [Int64] { lock.withLock { Array(controls.keys) } }
}
