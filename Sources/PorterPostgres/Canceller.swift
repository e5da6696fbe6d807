import CLibPQ
import Foundation

/// Holds the connection's `PGcancel`, which can send a cancel request from any thread.
final class Canceller: @unchecked Sendable {
    private let lock = NSLock()
    private var pgCancel: OpaquePointer?

    func set(_ newValue: OpaquePointer?) {
        lock.lock()
        defer { lock.unlock() }
        if let pgCancel { PQfreeCancel(pgCancel) }
        pgCancel = newValue
    }

    func cancel() {
        lock.lock()
        defer { lock.unlock() }
        guard let pgCancel else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(pgCancel, &buffer, Int32(buffer.count))
    }
}
