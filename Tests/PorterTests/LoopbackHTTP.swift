import Foundation

/// A small HTTP/1.1 client for servers on loopback: chromedriver, the dashboard, the metrics
/// endpoint. Foundation's URLSession on Linux rejects chromedriver's answers (it writes
/// `Content-Length:251`, without a space, which its header parser refuses), and a real client
/// library would add minutes to CI's build for a few test requests. One request per
/// connection (`Connection: close`), on a thread of its own, with a deadline; redirects are
/// not followed.
enum LoopbackHTTP {
    struct Answer: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    static func send(
        _ method: String, _ address: String, headers: [String: String] = [:], body: Data? = nil, timeout: Int = 60
    ) async throws -> Answer {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try sendBlocking(method, address, headers: headers, body: body, timeout: timeout) })
            }.start()
        }
    }

    static func get(_ address: String, headers: [String: String] = [:]) async throws -> Answer {
        try await send("GET", address, headers: headers)
    }

    private static func sendBlocking(
        _ method: String, _ address: String, headers: [String: String], body: Data?, timeout: Int
    ) throws -> Answer {
        guard let url = URLComponents(string: address), let host = url.host, let port = url.port else {
            throw Failure("not an http://host:port/ address: \(address)")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket failed") }
        defer { close(fd) }
        var wait = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = in_port_t(UInt16(port).bigEndian)
        target.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw Failure("could not connect to \(host):\(port): errno \(errno)") }
        let path = (url.percentEncodedPath.isEmpty ? "/" : url.percentEncodedPath) + (url.percentEncodedQuery.map { "?" + $0 } ?? "")
        var head = "\(method) \(path) HTTP/1.1\r\nConnection: close\r\n"
        if !headers.keys.contains(where: { $0.lowercased() == "host" }) { head += "Host: \(host):\(port)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        var request = Data(head.utf8)
        if let body { request.append(body) }
        try request.withUnsafeBytes { bytes in
            var sent = 0
            while sent < bytes.count {
                let n = write(fd, bytes.baseAddress! + sent, bytes.count - sent)
                guard n > 0 else { throw Failure("write failed: errno \(errno)") }
                sent += n
            }
        }
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n == 0 { break }
            guard n > 0 else { throw Failure("read failed (errno \(errno)) after \(response.count) bytes from \(address)") }
            response.append(contentsOf: buffer[0..<n])
            // Some servers (chromedriver) keep the connection open whatever the request says:
            // stop once the answer is complete.
            if isComplete(response) { break }
        }
        return try parse(response)
    }

    /// Whether `response` holds a whole answer: its header, then Content-Length bytes, or the
    /// last chunk of a chunked body.
    private static func isComplete(_ response: Data) -> Bool {
        guard let end = response.range(of: Data("\r\n\r\n".utf8)) else { return false }
        let head = String(decoding: response[..<end.lowerBound], as: UTF8.self).lowercased()
        let bodyBytes = response.count - end.upperBound
        for line in head.components(separatedBy: "\r\n") where line.hasPrefix("content-length:") {
            if let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) {
                return bodyBytes >= length
            }
        }
        if head.contains("transfer-encoding: chunked") || head.contains("transfer-encoding:chunked") {
            return response.suffix(5) == Data("0\r\n\r\n".utf8)
        }
        return false
    }

    private static func parse(_ response: Data) throws -> Answer {
        guard let end = response.range(of: Data("\r\n\r\n".utf8)) else { throw Failure("no HTTP header in the answer") }
        let lines = String(decoding: response[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw Failure("bad status line \(lines[0])") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Data(response[end.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var plain = Data()
            while let lineEnd = body.range(of: Data("\r\n".utf8)),
                let size = Int(String(decoding: body[..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";")[0], radix: 16),
                size > 0
            {
                let start = lineEnd.upperBound
                plain.append(body[start..<min(body.endIndex, start + size)])
                body = Data(body[min(body.endIndex, start + size + 2)...])
            }
            body = plain
        } else if let length = headers["content-length"].flatMap(Int.init), length < body.count {
            body = Data(body.prefix(length))
        }
        return Answer(status: status, headers: headers, body: body)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
