import Foundation

/// The handle a worker keeps on a running job, to stop it early: `porter cancel`, or
/// shutdown once the grace period is over.
final class JobControl: @unchecked Sendable {
    enum StopReason: Sendable, Equatable {
        case canceled
        case shutdown
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

/// Waits for whichever of several racers finishes first, and cancels the others.
///
/// Each racer runs in a task of its own, unstructured on purpose: a handler that ignores
/// cancellation must not be able to hold the caller, so nobody waits for the losers.
func firstOf<T: Sendable>(_ racers: [@Sendable () async -> T]) async -> T {
    let box = FirstResult<T>()
    return await withCheckedContinuation { continuation in
        box.set(continuation)
        let tasks = racers.map { racer in
            Task {
                let value = await racer()
                box.finish(value)
            }
        }
        box.onFinish { for task in tasks { task.cancel() } }
    }
}

/// Resumes a continuation once, with the first value offered.
private final class FirstResult<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Never>?
    private var value: T?
    private var done = false
    private var cleanup: (@Sendable () -> Void)?

    func set(_ continuation: CheckedContinuation<T, Never>) {
        lock.withLock { self.continuation = continuation }
    }

    func finish(_ value: T) {
        let (continuation, cleanup) = lock.withLock { () -> (CheckedContinuation<T, Never>?, (@Sendable () -> Void)?) in
            guard !done else { return (nil, nil) }
            done = true
            self.value = value
            defer { self.continuation = nil }
            return (self.continuation, self.cleanup)
        }
        continuation?.resume(returning: value)
        cleanup?()
    }

    func onFinish(_ cleanup: @escaping @Sendable () -> Void) {
        let alreadyDone = lock.withLock { () -> Bool in
            self.cleanup = cleanup
            return done
        }
        if alreadyDone { cleanup() }
    }
}
