import Tracing

/// A job's W3C trace context as `porter.jobs` stores it: the carrier a tracer injects the
/// enqueue's context into, and extracts it from in the worker.
///
/// It holds only the two W3C headers, `traceparent` and `tracestate`; a tracer that
/// propagates in another format (B3, an in-memory tracer's own keys) stores nothing.
package struct TraceHeaders: Sendable, Hashable {
    /// `version-traceid-parentid-flags`, lowercase hex.
    package var traceparent: String?
    /// The vendors' entries that came with it.
    package var tracestate: String?

    package init(traceparent: String? = nil, tracestate: String? = nil) {
        self.traceparent = traceparent
        self.tracestate = tracestate
    }

    /// The most bytes of `tracestate` stored: W3C's 32 list members fit.
    package static let maxTracestateBytes = 512

    /// Whether `value` is a W3C traceparent as `porter.jobs` accepts it (the constraint
    /// `jobs_traceparent_w3c`): `2-32-16-2` lowercase hex digits joined by dashes, the version
    /// not `ff`, neither the trace id nor the parent id all zeros.
    package static func isValidTraceparent(_ value: String) -> Bool {
        var index = 0
        var traceIDZero = true
        var parentIDZero = true
        var version: (UInt8, UInt8) = (0, 0)
        for byte in value.utf8 {
            switch index {
            case 2, 35, 52:
                guard byte == UInt8(ascii: "-") else { return false }
            default:
                guard (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
                else { return false }
                if index == 0 { version.0 = byte }
                if index == 1 { version.1 = byte }
                if (3..<35).contains(index) && byte != UInt8(ascii: "0") { traceIDZero = false }
                if (36..<52).contains(index) && byte != UInt8(ascii: "0") { parentIDZero = false }
            }
            index += 1
            if index > 55 { return false }
        }
        return index == 55 && !(version.0 == UInt8(ascii: "f") && version.1 == UInt8(ascii: "f")) && !traceIDZero && !parentIDZero
    }

    /// Throws `PorterError.Code.invalidArgument` naming `traceparent` or `tracestate` when
    /// the pair could not be stored, with the message `porter.enqueue` would give.
    package static func check(traceparent: String?, tracestate: String?) throws(PorterError) {
        if traceparent == nil, tracestate != nil {
            throw PorterError(
                code: .invalidArgument(parameter: "tracestate"),
                message: "tracestate needs a traceparent: pass the W3C traceparent the tracestate came with")
        }
        if let traceparent, !isValidTraceparent(traceparent) {
            throw PorterError(
                code: .invalidArgument(parameter: "traceparent"),
                message: "traceparent \(quoted(traceparent)) is not a W3C traceparent: expected version-traceid-parentid-flags, 2, 32, 16 and 2 lowercase hex digits, version not ff, ids not all zeros, e.g. 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        }
        if let tracestate, tracestate.utf8.count > maxTracestateBytes {
            throw PorterError(
                code: .invalidArgument(parameter: "tracestate"),
                message: "tracestate is \(tracestate.utf8.count) bytes, more than the \(maxTracestateBytes) W3C propagates (it starts \(quoted(tracestate)))")
        }
    }

    /// `value` in quotes, cut to 80 characters: it can be any size.
    private static func quoted(_ value: String) -> String {
        value.count > 80 ? "'\(value.prefix(80))…'" : "'\(value)'"
    }
}

/// Writes a tracer's W3C headers into `TraceHeaders`.
package struct TraceHeadersInjector: Injector {
    package init() {}

    package func inject(_ value: String, forKey key: String, into carrier: inout TraceHeaders) {
        switch key.lowercased() {
        case "traceparent": carrier.traceparent = value
        case "tracestate": carrier.tracestate = value.isEmpty ? nil : value
        default: break
        }
    }
}

/// Reads the W3C headers of `TraceHeaders` for a tracer.
package struct TraceHeadersExtractor: Extractor {
    package init() {}

    package func extract(key: String, from carrier: TraceHeaders) -> String? {
        switch key.lowercased() {
        case "traceparent": return carrier.traceparent
        case "tracestate": return carrier.tracestate
        default: return nil
        }
    }
}
