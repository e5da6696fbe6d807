import CLibPQ
import Foundation

/// Holds the connection's `PGcancel`, which can send a cancel request from any thread, and
/// which statement the connection is running, so that a request reaches that statement only.
final class Canceller: @unchecked Sendable {
    private let lock = NSLock()
    private var handle: CancelHandle?
    /// The statement running now (its number), or nil between statements.
    private var running: UInt64?
    private var lastStatement: UInt64 = 0
    /// Held while a request is sent: a statement that ends meanwhile waits to say so, so the
    /// next one cannot begin before the server has handled the request.
    private let sending = NSLock()

    func set(_ newValue: OpaquePointer?) {
        lock.withLock { handle = newValue.map(CancelHandle.init) }
    }

    /// A statement begins on the connection's thread; pass the result to `ended`.
    func began() -> UInt64 {
        lock.withLock {
            lastStatement += 1
            running = lastStatement
            return lastStatement
        }
    }

    /// The statement numbered `statement` ended.
    func ended(_ statement: UInt64) {
        sending.withLock {
            lock.withLock { if running == statement { running = nil } }
        }
    }

    /// Asks the server to cancel the statement running now, without waiting. `PQcancel` opens
    /// a connection to the server and waits until the server closes it; over a link that is
    /// frozen (a partition, a stalled proxy) that is for ever, and the caller is often a task
    /// on Swift's two-thread cooperative pool, or a cancellation handler. So the request goes
    /// from a thread of its own, and only if the statement it was meant for is still running
    /// then: a request that arrived later would cancel whatever the connection runs next.
    func cancel() {
        guard let (handle, statement) = lock.withLock({ () -> (CancelHandle, UInt64)? in
            guard let handle, let running else { return nil }
            return (handle, running)
        }) else { return }
        Thread.detachNewThread { [self] in
            sending.withLock {
                guard lock.withLock({ running == statement }) else { return }
                handle.send()
            }
        }
    }
}

/// A `PGcancel`, freed once neither the connection nor a cancel request in flight needs it.
private final class CancelHandle: @unchecked Sendable {
    private let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    func send() {
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(pointer, &buffer, Int32(buffer.count))
    }

    deinit { PQfreeCancel(pointer) }
}
