import Foundation
import PorterPostgres
import PorterTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on loopback in front of the test server that can stop forwarding bytes without
/// closing a socket: the link a frozen network path gives both ends. No RST, no FIN, and the
/// kernel still acknowledges keepalive probes, so neither libpq nor the server notices
/// anything until an answer is overdue.
final class FreezableProxy: @unchecked Sendable {
    /// Where the proxy listens, on 127.0.0.1.
    let port: UInt16
    private let listener: Int32
    private let upstream: Upstream
    private let lock = NSLock()
    private var frozen = false
    private var closed = false
    /// Armed by `cutConnection(atAnswerContaining:)`.
    private var cutMarker: [UInt8]?
    /// Armed by `holdRequests(containing:)`.
    private var holdMarker: [UInt8]?

    /// The server's end: a unix socket path, or a TCP address.
    enum Upstream: Sendable {
        case unix(String)
        case tcp(host: String, port: UInt16)
    }

    /// A proxy in front of the server `database` lives on.
    static func start(for database: TestDatabase) async throws -> FreezableProxy {
        let connection = try await database.connect()
        defer { Task { await connection.close() } }
        let row = try #require(try await connection.query(
            "SELECT current_setting('unix_socket_directories'), current_setting('port'), host(inet_server_addr()), inet_server_port()").first)
        let (directories, port, host, tcpPort) = try row.decode((String, String, String?, Int?).self)
        if let host, let tcpPort {
            return try FreezableProxy(upstream: .tcp(host: host, port: UInt16(tcpPort)))
        }
        let directory = directories.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "/tmp"
        return try FreezableProxy(upstream: .unix("\(directory)/.s.PGSQL.\(port)"))
    }

    init(upstream: Upstream) throws {
        self.upstream = upstream
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ProxyError("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(descriptor, 64) == 0 else {
            Glibc.close(descriptor)
            throw ProxyError("bind/listen: \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        listener = descriptor
        port = UInt16(bigEndian: address.sin_port)
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// The connection string for `database` through this proxy.
    func connectionString(for database: TestDatabase) -> String {
        "host=127.0.0.1 port=\(port) user=postgres dbname=\(database.name)"
    }

    /// Stops forwarding in both directions; every socket stays open.
    func freeze() { lock.withLock { frozen = true } }

    /// Forwards again what waited in the kernel's buffers, and everything after it.
    func thaw() { lock.withLock { frozen = false } }

    /// Closes the first connection whose server sends an answer containing `marker`, instead
    /// of forwarding that answer: what a PgBouncer KILL or a network cut does to a statement
    /// that ran and committed. Once.
    func cutConnection(atAnswerContaining marker: String) { lock.withLock { cutMarker = Array(marker.utf8) } }

    /// Holds every request containing `marker` (and what its connection sends after it) until
    /// `releaseHeldRequests()`: a statement the server has not received yet, however long the
    /// client has been waiting for it.
    func holdRequests(containing marker: String) { lock.withLock { holdMarker = Array(marker.utf8) } }

    /// Forwards the held requests, and holds no more.
    func releaseHeldRequests() { lock.withLock { holdMarker = nil } }

    /// Whether the request in `bytes` is to be held now.
    private func isHeld(_ bytes: ArraySlice<UInt8>) -> Bool {
        lock.withLock {
            guard let marker = holdMarker else { return false }
            return bytes.count >= marker.count
                && (0...(bytes.count - marker.count)).contains(where: { bytes.dropFirst($0).starts(with: marker) })
        }
    }

    /// Whether the answer in `bytes` is the one to cut at; disarms the cut when it is.
    private func isCut(_ bytes: ArraySlice<UInt8>) -> Bool {
        lock.withLock {
            guard let marker = cutMarker, bytes.count >= marker.count,
                  (0...(bytes.count - marker.count)).contains(where: { bytes.dropFirst($0).starts(with: marker) })
            else { return false }
            cutMarker = nil
            return true
        }
    }

    /// Closes every socket (each connection's within 50 ms).
    func close() {
        lock.withLock { closed = true }
        Glibc.close(listener)
    }

    private var isFrozen: Bool { lock.withLock { frozen } }
    private var isClosed: Bool { lock.withLock { closed } }

    private func acceptLoop() {
        while !isClosed {
            var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 100) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            guard let server = connectUpstream() else {
                Glibc.close(client)
                continue
            }
            Thread.detachNewThread { [self] in pump(client, server) }
        }
    }

    private func connectUpstream() -> Int32? {
        switch upstream {
        case .unix(let path):
            let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                for (index, byte) in path.utf8.prefix(buffer.count - 1).enumerated() { buffer[index] = byte }
            }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if connected == 0 { return descriptor }
            Glibc.close(descriptor)
            return nil
        case .tcp(let host, let port):
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr(host)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if connected == 0 { return descriptor }
            Glibc.close(descriptor)
            return nil
        }
    }

    /// Copies bytes both ways until either side closes, except while frozen, when it reads
    /// nothing: what is sent waits in the kernel's buffers.
    private func pump(_ client: Int32, _ server: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        defer {
            Glibc.close(client)
            Glibc.close(server)
        }
        while !isClosed {
            if isFrozen {
                usleep(20_000)
                continue
            }
            var descriptors = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: server, events: Int16(POLLIN), revents: 0)]
            guard poll(&descriptors, 2, 50) > 0 else { continue }
            for (index, descriptor) in descriptors.enumerated() where descriptor.revents != 0 {
                let to = index == 0 ? server : client
                let count = read(descriptor.fd, &buffer, buffer.count)
                if count <= 0 { return }
                if index == 1, isCut(buffer[..<count]) { return }
                if index == 0, isHeld(buffer[..<count]) {
                    while isHeld(buffer[..<count]), !isClosed { usleep(10_000) }
                }
                var written = 0
                while written < count {
                    let n = buffer.withUnsafeBytes { write(to, $0.baseAddress! + written, count - written) }
                    if n <= 0 { return }
                    written += n
                }
            }
        }
    }
}

struct ProxyError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
