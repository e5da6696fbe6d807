import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An OTLP/HTTP endpoint on 127.0.0.1 that reads every request and answers `200` with an empty
/// export response, for `bench burndown --tracing`: the worker's spans are made, batched,
/// encoded and sent as to a collector, and the sink costs the machine as little as a socket
/// read. Plain sockets, one thread per connection (the exporter keeps one or two alive), so
/// the benchmark target needs no HTTP server library.
package final class DiscardingOTLPSink: Sendable {
    package let port: Int
    private let listener: Int32
    private let counts = Counts()

    /// Export requests answered, and their bytes, so a run shows that spans went out.
    final class Counts: Sendable {
        let state = Mutex((requests: 0, bytes: 0))
    }

    package var requests: Int { counts.state.withLock { $0.requests } }
    var bytes: Int { counts.state.withLock { $0.bytes } }

    package init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw SinkError(message: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            Glibc.close(listener)
            throw SinkError(message: "bind or listen on 127.0.0.1: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        self.port = Int(UInt16(bigEndian: address.sin_port))
        let counts = counts
        Thread {
            while true {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }  // closed: the benchmark is over
                Thread { Self.serve(connection, counts: counts) }.start()
            }
        }.start()
    }

    /// Stops accepting; the connections end with the process.
    package func close() { shutdown(listener, Int32(SHUT_RDWR)); Glibc.close(listener) }

    /// Answers each request on `connection` once its body has been read, until the peer closes.
    private static func serve(_ connection: Int32, counts: Counts) {
        defer { Glibc.close(connection) }
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let answer = Array("HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n".utf8)
        let separator: [UInt8] = [13, 10, 13, 10]
        while true {
            // A whole request in `pending`: its head, then Content-Length bytes of body.
            if let end = pending.firstRange(of: separator) {
                let head = String(decoding: pending[..<end.lowerBound], as: UTF8.self).lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if pending.count - end.upperBound >= length {
                    pending.removeFirst(end.upperBound + length)
                    counts.state.withLock { $0 = ($0.requests + 1, $0.bytes + length) }
                    guard answer.withUnsafeBytes({ write(connection, $0.baseAddress, $0.count) }) == answer.count else { return }
                    continue
                }
            }
            let count = buffer.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            pending.append(contentsOf: buffer[..<count])
        }
    }

    struct SinkError: Error, CustomStringConvertible {
        var message: String
        var description: String { "the trace sink: \(message)" }
    }
}
