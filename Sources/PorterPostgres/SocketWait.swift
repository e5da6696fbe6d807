#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Waiting for a socket to become readable: the one place this layer calls `poll`.
enum SocketWait {
    /// Whether `socket` has input (or EOF, or an error) within the timeout.
    static func isReadable(_ socket: Int32, timeoutMilliseconds: Int32) -> Bool {
        guard socket >= 0 else { return true }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, timeoutMilliseconds) > 0
    }

    /// Waits until one of `sockets` is readable or the timeout passes; returns which are.
    static func readable(_ sockets: [Int32], timeoutMilliseconds: Int32) -> [Bool] {
        var descriptors = sockets.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let count = poll(&descriptors, nfds_t(descriptors.count), timeoutMilliseconds)
        guard count > 0 else { return sockets.map { _ in false } }
        return descriptors.map { $0.revents != 0 }
    }
}
