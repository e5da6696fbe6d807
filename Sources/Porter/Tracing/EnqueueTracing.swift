import Tracing

/// The producer side of Porter's tracing: a short `send <queue>` span per enqueue (OTel's
/// messaging conventions), whose context is injected into the job's `traceparent` and
/// `tracestate`. Every Swift enqueue path goes through here: PorterClient's, postgres-nio's,
/// Fluent's, and the scheduler's fires.
///
/// With the no-op tracer it starts nothing and changes nothing: one type check per enqueue.
package enum EnqueueTracing {
    /// A started producer span, to end once the enqueue returned.
    package struct Send: Sendable {
        let span: any Span
    }

    /// Checks the explicit trace context of every request; a malformed one throws
    /// `invalidArgument` before anything is sent.
    package static func check(_ requests: some Sequence<EnqueueRequest>) throws(PorterError) {
        for request in requests {
            if request.options.traceparent != nil || request.options.tracestate != nil {
                try TraceHeaders.check(traceparent: request.options.traceparent, tracestate: request.options.tracestate)
            }
        }
    }

    /// Starts the producer span for enqueueing `requests` under the task's current context,
    /// and gives the requests without an explicit `traceparent` the span's context. Nil, and
    /// the requests untouched, when `tracer` (by default the process's) is the no-op tracer.
    package static func start(_ requests: inout [EnqueueRequest], tracer: (any Tracer)? = nil) -> Send? {
        let tracer = tracer ?? InstrumentationSystem.tracer
        guard !(tracer is NoOpTracer), let first = requests.first else { return nil }
        let queue = first.options.queue
        let sameQueue = requests.allSatisfy { $0.options.queue == queue }
        let span = tracer.startSpan(sameQueue ? "send \(queue)" : "send", context: ServiceContext.current ?? .topLevel, ofKind: .producer)
        span.updateAttributes { attributes in
            attributes["messaging.system"] = "porter"
            attributes["messaging.operation.type"] = "send"
            attributes["messaging.operation.name"] = "send"
            if sameQueue { attributes["messaging.destination.name"] = queue }
            if requests.count > 1 {
                attributes["messaging.batch.message_count"] = requests.count
            } else {
                attributes["porter.job.method"] = first.method
            }
        }
        var headers = TraceHeaders()
        tracer.inject(span.context, into: &headers, using: TraceHeadersInjector())
        if headers.traceparent.map(TraceHeaders.isValidTraceparent) == true,
            headers.tracestate.map({ $0.utf8.count <= TraceHeaders.maxTracestateBytes }) ?? true
        {
            for index in requests.indices where requests[index].options.traceparent == nil {
                requests[index].options.traceparent = headers.traceparent
                requests[index].options.tracestate = headers.tracestate
            }
        }
        return Send(span: span)
    }

    /// `start` for one request.
    package static func start(_ request: inout EnqueueRequest, tracer: (any Tracer)? = nil) -> Send? {
        let tracer = tracer ?? InstrumentationSystem.tracer
        guard !(tracer is NoOpTracer) else { return nil }
        var requests = [request]
        let send = start(&requests, tracer: tracer)
        request = requests[0]
        return send
    }

    /// Ends the span: the job's id once known, or the error that failed the enqueue.
    package static func end(_ send: Send?, ids: [Int64?] = [], error: (any Error)? = nil) {
        guard let send else { return }
        if let error {
            send.span.recordError(error)
            send.span.setStatus(SpanStatus(code: .error, message: "\(error)"))
        } else if ids.count == 1, let id = ids[0] {
            send.span.attributes["messaging.message.id"] = "\(id)"
        }
        send.span.end()
    }
}
