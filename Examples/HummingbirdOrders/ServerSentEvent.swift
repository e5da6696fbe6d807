import Hummingbird

/// One server-sent event: `event: NAME`, a `data:` line per line of data, a blank line.
struct ServerSentEvent {
    var event: String
    var data: String

    var buffer: ByteBuffer {
        var text = "event: \(event)\n"
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) { text += "data: \(line)\n" }
        return ByteBuffer(string: text + "\n")
    }
}
