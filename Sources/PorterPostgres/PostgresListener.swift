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
/// let listener = PostgresListener(configuration)
/// try await listener.listen("porter_realtime")
/// for await notification in listener.notifications() { ... }
/// ```
public final class PostgresListener: Sendable {
    /// What a subscriber receives.
    public enum Event: Sendable, Hashable {
        /// A notification on one of the listened channels.
        case notification(PostgresNotification)
        /// The connection dropped and is back, listening again. Notifications sent while it was
        /// down are lost: re-read any state you keep in tables.
        case reconnected
    }

    private let configuration: PostgresConfiguration
    private let logger: Logger
    private let state: ListenerState
    /// A pipe whose read end the listener thread polls beside the socket, to wake it early.
    private let wakeRead: Int32
    private let wakeWrite: Int32

    /// Starts the listener's thread; it connects right away and again whenever it loses the
    /// connection, waiting `reconnectDelay` at first and up to `maximumReconnectDelay`.
    public init(
        _ configuration: PostgresConfiguration,
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
                continuation.resume(throwing: PostgresError(code: .connectionClosed, message: "the listener is stopped"))
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
    public func notifications(channel: String? = nil) -> AsyncCompactMapSequence<AsyncStream<Event>, PostgresNotification> {
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

/// The listener's shared state: channels, pending LISTEN confirmations and subscribers.
final class ListenerState: @unchecked Sendable {
    private let lock = NSLock()
    private var channels: Set<String> = []
    private var pending: [(channel: String, waiter: CheckedContinuation<Void, any Error>)] = []
    private var subscribers: [Int: AsyncStream<PostgresListener.Event>.Continuation] = [:]
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

    func subscribe(_ continuation: AsyncStream<PostgresListener.Event>.Continuation) -> Int {
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

    func broadcast(_ event: PostgresListener.Event) {
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
            waiter.resume(throwing: PostgresError(code: .connectionClosed, message: "the listener is stopped"))
        }
    }
}

/// The listener thread's body: connect, LISTEN, wait on the socket, deliver, reconnect.
struct ListenerLoop: @unchecked Sendable {
    let configuration: PostgresConfiguration
    let logger: Logger
    let state: ListenerState
    let wakeDescriptor: Int32
    let reconnectDelay: Duration
    let maximumReconnectDelay: Duration
    let notices: NoticeLogger

    func run() {
        var delay = reconnectDelay
        var connectedBefore = false
        while !state.stopped {
            guard let handle = connect() else {
                sleepOrWake(delay)
                delay = min(delay * 2, maximumReconnectDelay)
                continue
            }
            delay = reconnectDelay
            if listenToAll(handle) {
                if connectedBefore {
                    logger.info("listener reconnected")
                    state.broadcast(.reconnected)
                }
                connectedBefore = true
                serve(handle)
            }
            PQfinish(handle)
        }
        Glibc.close(wakeDescriptor)
        state.finishAll()
    }

    private func connect() -> OpaquePointer? {
        let keywords = ["dbname", "fallback_application_name"]
        let values = [configuration.connectionString, configuration.applicationName]
        let handle = withCStringArray(keywords) { keywords in
            withCStringArray(values) { values in PQconnectdbParams(keywords, values, 1) }
        }
        guard let handle else { return nil }
        PQsetNoticeReceiver(handle, noticeReceiver, Unmanaged.passUnretained(notices).toOpaque())
        guard PQstatus(handle) == CONNECTION_OK else {
            logger.debug("listener could not connect", metadata: ["error": "\(String(cString: PQerrorMessage(handle)).trimmingTrailingNewlines)"])
            PQfinish(handle)
            return nil
        }
        return handle
    }

    /// LISTENs on every known channel, then confirms the pending `listen` calls.
    private func listenToAll(_ handle: OpaquePointer) -> Bool {
        let pending = state.takePending()
        for channel in state.allChannels {
            guard execute(handle, "LISTEN " + PostgresQuery.quoteIdentifier(channel)) else {
                // Put the confirmations back for the next connection.
                for item in pending { _ = state.add(channel: item.channel, waiter: item.waiter) }
                return false
            }
        }
        for item in pending { item.waiter.resume() }
        return true
    }

    private func serve(_ handle: OpaquePointer) {
        let socket = PQsocket(handle)
        while !state.stopped {
            let pending = state.takePending()
            for item in pending {
                guard execute(handle, "LISTEN " + PostgresQuery.quoteIdentifier(item.channel)) else {
                    _ = state.add(channel: item.channel, waiter: item.waiter)
                    return
                }
                item.waiter.resume()
            }
            deliver(handle)
            let ready = SocketWait.readable([socket, wakeDescriptor], timeoutMilliseconds: 1000)
            if ready[1] { drainWake() }
            if ready[0] {
                guard PQconsumeInput(handle) == 1 else {
                    logger.info("listener lost its connection; reconnecting", metadata: ["error": "\(String(cString: PQerrorMessage(handle)).trimmingTrailingNewlines)"])
                    return
                }
            }
            deliver(handle)
            guard PQstatus(handle) == CONNECTION_OK else { return }
        }
    }

    private func deliver(_ handle: OpaquePointer) {
        while let raw = PQnotifies(handle) {
            let notification = PostgresNotification(
                channel: String(cString: raw.pointee.relname),
                payload: String(cString: raw.pointee.extra),
                senderPID: raw.pointee.be_pid)
            PQfreemem(raw)
            state.broadcast(.notification(notification))
        }
    }

    private func execute(_ handle: OpaquePointer, _ sql: String) -> Bool {
        guard let result = PQexec(handle, sql) else { return false }
        defer { PQclear(result) }
        return PQresultStatus(result) == PGRES_COMMAND_OK
    }

    private func drainWake() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while Glibc.read(wakeDescriptor, &buffer, buffer.count) > 0 {}
    }

    private func sleepOrWake(_ duration: Duration) {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if SocketWait.readable([wakeDescriptor], timeoutMilliseconds: Int32(milliseconds))[0] { drainWake() }
    }
}
