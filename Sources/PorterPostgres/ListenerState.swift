import Foundation

/// The listener's shared state: channels, pending LISTEN confirmations and subscribers.
final class ListenerState: @unchecked Sendable {
    private let lock = NSLock()
    private var channels: Set<String> = []
    private var pending: [(channel: String, waiter: CheckedContinuation<Void, any Error>)] = []
    private var subscribers: [Int: AsyncStream<PQListener.Event>.Continuation] = [:]
    private var nextSubscriber = 0
    private(set) var isStopped = false

    func add(channel: String, waiter: CheckedContinuation<Void, any Error>) -> Bool {
        lock.withLock {
            guard !isStopped else { return false }
            channels.insert(channel)
            pending.append((channel, waiter))
            return true
        }
    }

    func subscribe(_ continuation: AsyncStream<PQListener.Event>.Continuation) -> Int {
        lock.withLock {
            nextSubscriber += 1
            if isStopped { continuation.finish() } else { subscribers[nextSubscriber] = continuation }
            return nextSubscriber
        }
    }

    func unsubscribe(_ id: Int) {
        _ = lock.withLock { subscribers.removeValue(forKey: id) }
    }

    /// Marks the listener stopped; returns false if it already was.
    func stop() -> Bool {
        lock.withLock {
            if isStopped { return false }
            isStopped = true
            return true
        }
    }

    var stopped: Bool { lock.withLock { isStopped } }

    var allChannels: Set<String> { lock.withLock { channels } }

    func takePending() -> [(channel: String, waiter: CheckedContinuation<Void, any Error>)] {
        lock.withLock {
            defer { pending.removeAll() }
            return pending
        }
    }

    func broadcast(_ event: PQListener.Event) {
        let targets = lock.withLock { Array(subscribers.values) }
        for target in targets { target.yield(event) }
    }

    /// Ends every subscriber and fails every pending LISTEN.
    func finishAll() {
        let (targets, waiters) = lock.withLock {
            defer {
                subscribers.removeAll()
                pending.removeAll()
            }
            return (Array(subscribers.values), pending.map(\.waiter))
        }
        for target in targets { target.finish() }
        for waiter in waiters {
            waiter.resume(throwing: PQError(code: .connectionClosed, message: "the listener is stopped"))
        }
    }
}
