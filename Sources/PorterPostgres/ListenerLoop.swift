import CLibPQ
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The listener thread's body: connect, LISTEN, wait on the socket, deliver, reconnect.
struct ListenerLoop: @unchecked Sendable {
    let configuration: PQConfiguration
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
        let (keywords, values) = configuration.connectParameters
        let handle = withCStringArray(keywords) { keywords in
            withCStringArray(values) { values in PQconnectdbParams(keywords, values, 1) }
        }
        guard let handle else { return nil }
        PQsetNoticeReceiver(handle, noticeReceiver, Unmanaged.passUnretained(notices).toOpaque())
        guard PQstatus(handle) == CONNECTION_OK else {
            logger.debug("listener could not connect", metadata: ["error": "\(String(cString: PQerrorMessage(handle)).asOneLine)"])
            PQfinish(handle)
            return nil
        }
        return handle
    }

    /// LISTENs on every known channel, then confirms the pending `listen` calls.
    private func listenToAll(_ handle: OpaquePointer) -> Bool {
        let pending = state.takePending()
        for channel in state.allChannels {
            guard execute(handle, "LISTEN " + PQQuery.quoteIdentifier(channel)) else {
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
                guard execute(handle, "LISTEN " + PQQuery.quoteIdentifier(item.channel)) else {
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
                    logger.info("listener lost its connection; reconnecting", metadata: ["error": "\(String(cString: PQerrorMessage(handle)).asOneLine)"])
                    return
                }
            }
            deliver(handle)
            guard PQstatus(handle) == CONNECTION_OK else { return }
        }
    }

    private func deliver(_ handle: OpaquePointer) {
        while let raw = PQnotifies(handle) {
            let notification = PQNotification(
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
