import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A local OTLP/HTTP receiver for tests: an HTTP/1.1 server on 127.0.0.1 that keeps every
/// request it gets and answers each as a collector does, with an empty export response in the
/// request's encoding.
final class OTLPReceiver: Sendable {
    struct Request: Sendable {
        var uri: String
        var contentType: String?
        var body: Data
    }

    let port: Int
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup
    private let store: Store

    final class Store: @unchecked Sendable {
        private let lock = NSLock()
        private var requests: [Request] = []
        var received: [Request] { lock.withLock { requests } }
        func add(_ request: Request) { lock.withLock { requests.append(request) } }
    }

    /// Every request received so far.
    var received: [Request] { store.received }

    private init(port: Int, channel: any Channel, group: MultiThreadedEventLoopGroup, store: Store) {
        (self.port, self.channel, self.group, self.store) = (port, channel, group, store)
    }

    static func start() async throws -> OTLPReceiver {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let store = Store()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(store: store))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try require(channel.localAddress?.port)
        return OTLPReceiver(port: port, channel: channel, group: group, store: store)
    }

    func shutdown() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let store: Store
        var head: HTTPRequestHead?
        var body = ByteBuffer()

        init(store: Store) { self.store = store }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body.clear()
            case .body(var part):
                body.writeBuffer(&part)
            case .end:
                guard let head else { return }
                let contentType = head.headers.first(name: "Content-Type")
                store.add(Request(uri: head.uri, contentType: contentType, body: Data(body.readableBytesView)))
                let json = contentType?.hasPrefix("application/json") == true
                let answer = json ? ByteBuffer(string: "{}") : ByteBuffer()
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: json ? "application/json" : "application/x-protobuf")
                headers.add(name: "Content-Length", value: "\(answer.readableBytes)")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(answer))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                self.head = nil
            }
        }
    }
}

/// `#require` without Testing, for the receiver's start.
private func require<T>(_ value: T?) throws -> T {
    guard let value else { throw CocoaError(.fileReadUnknown) }
    return value
}
