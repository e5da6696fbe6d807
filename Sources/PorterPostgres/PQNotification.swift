/// A notification received on a channel this process listens to.
public struct PQNotification: Sendable, Hashable {
    /// The channel it was sent on.
    public var channel: String
    /// The payload text; empty when none was sent.
    public var payload: String
    /// The server process that sent it.
    public var senderPID: Int32

    /// A notification as the server delivered it.
    public init(channel: String, payload: String, senderPID: Int32) {
        self.channel = channel
        self.payload = payload
        self.senderPID = senderPID
    }
}
