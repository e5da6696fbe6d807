import Foundation

/// The first of several values offered from anywhere; later offers are ignored. One waiter.
final class OneShot<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: T?
    private var waiter: CheckedContinuation<T, Never>?

    func offer(_ value: T) {
        let waiter = lock.withLock { () -> CheckedContinuation<T, Never>? in
            guard result == nil else { return nil }
            result = value
            defer { self.waiter = nil }
            return self.waiter
        }
        waiter?.resume(returning: value)
    }

    /// Waits for the first offer.
    var value: T {
        get async {
            await withCheckedContinuation { continuation in
                let ready = lock.withLock { () -> T? in
                    if let result { return result }
                    waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
