import Foundation
import Tracing

/// A tracer that keeps every span it ends, in memory, and propagates W3C `traceparent` and
/// `tracestate` as an OpenTelemetry tracer does: a test passes it to its own `PorterClient`
/// (or scopes it with `withTracer`), so parallel tests never share it and nothing touches the
/// process's bootstrap. Porter's own tests' (`package`); swift-distributed-tracing's
/// InMemoryTracer propagates its own keys, not W3C's, so Porter would store nothing with it.
package final class RecordingTracer: Tracer, @unchecked Sendable {
    /// A span's identity in a `ServiceContext`.
    package struct SpanIdentity: Sendable, Hashable {
        package var traceID: String
        package var spanID: String
        package var tracestate: String?
        package var traceparent: String { "00-\(traceID)-\(spanID)-01" }
    }

    package enum SpanIdentityKey: ServiceContextKey {
        package typealias Value = SpanIdentity
    }

    /// A span as it ended.
    package struct Finished: Sendable {
        package var name: String
        package var kind: SpanKind
        package var identity: SpanIdentity
        /// The span it is a child of, if any.
        package var parent: SpanIdentity?
        package var links: [SpanIdentity]
        package var attributes: [String: String]
        package var status: SpanStatus?
        package var errors: [String]
    }

    private let lock = NSLock()
    private var ended: [Finished] = []

    /// Every span ended so far.
    package var finished: [Finished] { lock.withLock { ended } }

    package init() {}

    func record(_ span: Finished) { lock.withLock { ended.append(span) } }

    package func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> RecordedSpan {
        var context = context()
        let parent = context[SpanIdentityKey.self]
        let identity = SpanIdentity(
            traceID: parent?.traceID ?? Self.hex(bytes: 16), spanID: Self.hex(bytes: 8), tracestate: parent?.tracestate)
        context[SpanIdentityKey.self] = identity
        return RecordedSpan(tracer: self, name: operationName, kind: kind, context: context, identity: identity, parent: parent)
    }

    package func forceFlush() {}

    package func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let identity = context[SpanIdentityKey.self] else { return }
        injector.inject(identity.traceparent, forKey: "traceparent", into: &carrier)
        if let tracestate = identity.tracestate { injector.inject(tracestate, forKey: "tracestate", into: &carrier) }
    }

    package func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        guard let traceparent = extractor.extract(key: "traceparent", from: carrier) else { return }
        let parts = traceparent.split(separator: "-")
        guard parts.count == 4 else { return }
        context[SpanIdentityKey.self] = SpanIdentity(
            traceID: String(parts[1]), spanID: String(parts[2]), tracestate: extractor.extract(key: "tracestate", from: carrier))
    }

    package static func hex(bytes: Int) -> String {
        (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 1...255)) }.joined()
    }
}

/// A span of `RecordingTracer`, recorded when it ends.
package final class RecordedSpan: Span, @unchecked Sendable {
    private let tracer: RecordingTracer
    package let kind: SpanKind
    package let context: ServiceContext
    package let identity: RecordingTracer.SpanIdentity
    package let parent: RecordingTracer.SpanIdentity?
    private let lock = NSLock()
    private var name: String
    private var storedAttributes = SpanAttributes()
    private var links: [RecordingTracer.SpanIdentity] = []
    private var status: SpanStatus?
    private var errors: [String] = []

    init(
        tracer: RecordingTracer, name: String, kind: SpanKind, context: ServiceContext,
        identity: RecordingTracer.SpanIdentity, parent: RecordingTracer.SpanIdentity?
    ) {
        (self.tracer, self.name, self.kind, self.context, self.identity, self.parent) = (tracer, name, kind, context, identity, parent)
    }

    package var operationName: String {
        get { lock.withLock { name } }
        set { lock.withLock { name = newValue } }
    }

    package var attributes: SpanAttributes {
        get { lock.withLock { storedAttributes } }
        set { lock.withLock { storedAttributes = newValue } }
    }

    package var isRecording: Bool { true }

    package func setStatus(_ status: SpanStatus) { lock.withLock { self.status = status } }
    package func addEvent(_ event: SpanEvent) {}

    package func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        lock.withLock { errors.append("\(error)") }
    }

    package func addLink(_ link: SpanLink) {
        guard let identity = link.context[RecordingTracer.SpanIdentityKey.self] else { return }
        lock.withLock { links.append(identity) }
    }

    package func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let finished = lock.withLock { () -> RecordingTracer.Finished in
            var flat: [String: String] = [:]
            storedAttributes.forEach { key, value in flat[key] = Self.text(value) }
            return RecordingTracer.Finished(
                name: name, kind: kind, identity: identity, parent: parent, links: links, attributes: flat, status: status,
                errors: errors)
        }
        tracer.record(finished)
    }

    private static func text(_ value: SpanAttribute) -> String {
        switch value {
        case .int32(let value): return "\(value)"
        case .int64(let value): return "\(value)"
        case .double(let value): return "\(value)"
        case .bool(let value): return "\(value)"
        case .string(let value): return value
        case .stringConvertible(let value): return "\(value)"
        default: return "\(value)"
        }
    }
}
