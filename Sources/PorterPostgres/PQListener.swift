import CLibPQ
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A dedicated connection that LISTENs on channels and delivers notifications as an
/// `AsyncSequence`, reconnecting on its own when the connection drops.
///
/// It runs on its own thread, waiting on the connection's socket with `poll`, so it costs the
/// cooperative pool nothing while idle. NOTIFY sent inside a transaction arrives only after
/// that transaction commits, and never if it rolls back.
///
/// ```swift
/// let listener = PQListener(configuration)
/// try await listener.listen("porter_realtime")
/// for await notification in listener.notifications() { ... }
/// ```
public final class PQListener: Sendable {
    /// What a subscriber receives.
    public enum Event: Sendable, Hashable {
        /// A notification on one of the listened channels.
        case notification(PQNotification)
        /// The connection dropped and is back, listening again. Notifications sent while it was
        /// down are lost: re-read any state you keep in tables.
        case reconnected
    }

    private let configuration: PQConfiguration
    private let logger: Logger
    private let state: ListenerState
    /// A pipe whose read end the listener thread polls beside the socket, to wake it early.
    private let wakeRead: Int32
    private let wakeWrite: Int32

    /// Starts the listener's thread; it connects right away and again whenever it loses the
    /// connection, waiting `reconnectDelay` at first and up to `maximumReconnectDelay`.
    public init(
        _ configuration: PQConfiguration,
        logger: Logger = Logger(label: "porter.postgres.listener"),
        reconnectDelay: Duration = .milliseconds(100),
        maximumReconnectDelay: Duration = .seconds(5)
    ) {
        self.configuration = configuration
        self.logger = logger
        self.state = ListenerState()
        var descriptors: [Int32] = [-1, -1]
        precondition(pipe(&descriptors) == 0, "pipe failed: \(errno)")
        for descriptor in descriptors {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
        self.wakeRead = descriptors[0]
        self.wakeWrite = descriptors[1]
        let loop = ListenerLoop(
            configuration: configuration, logger: logger, state: state, wakeDescriptor: wakeRead,
            reconnectDelay: reconnectDelay, maximumReconnectDelay: maximumReconnectDelay,
            notices: NoticeLogger(logger: logger))
        let thread = Thread { loop.run() }
        thread.name = "porter-pg-listen"
        thread.start()
    }

    deinit {
        stop()
        // The loop thread owns the read end; the write end is ours. Closing it also wakes the loop.
        Glibc.close(wakeWrite)
    }

    /// Starts listening on `channel`. Returns once the server has confirmed the LISTEN, so
    /// every notification committed after this returns will be delivered.
    public func listen(_ channel: String) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            if !state.add(channel: channel, waiter: continuation) {
                continuation.resume(throwing: PQError(code: .connectionClosed, message: "the listener is stopped"))
                return
            }
            wake()
        }
    }

    /// Every event from now on: notifications on all listened channels, and reconnections.
    public func events() -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
        let id = state.subscribe(continuation)
        continuation.onTermination = { [state] _ in state.unsubscribe(id) }
        return stream
    }

    /// Notifications from now on, on `channel` or on every listened channel when `nil`.
    public func notifications(channel: String? = nil) -> AsyncCompactMapSequence<AsyncStream<Event>, PQNotification> {
        events().compactMap { event in
            guard case .notification(let notification) = event else { return nil }
            if let channel, notification.channel != channel { return nil }
            return notification
        }
    }

    /// Closes the connection and ends every subscriber's sequence.
    public func stop() {
        if state.stop() { wake() }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWrite, &byte, 1)
    }
}
