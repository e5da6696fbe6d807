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
        for request in requests { try check(request.options) }
    }

    /// Checks one set of options' explicit trace context.
    package static func check(_ options: EnqueueOptions) throws(PorterError) {
        if options.traceparent != nil || options.tracestate != nil {
            try TraceHeaders.check(traceparent: options.traceparent, tracestate: options.tracestate)
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
        let (send, headers) = startSpan(
            queue: sameQueue ? queue : nil, count: requests.count, method: first.method, tracer: tracer)
        if let headers {
            for index in requests.indices where requests[index].options.traceparent == nil {
                requests[index].options.traceparent = headers.traceparent
                requests[index].options.tracestate = headers.tracestate
            }
        }
        return send
    }

    /// `start` for a batch of one method and shared options.
    package static func start(_ batch: inout EnqueueBatch, tracer: (any Tracer)? = nil) -> Send? {
        let tracer = tracer ?? InstrumentationSystem.tracer
        guard !(tracer is NoOpTracer), batch.count > 0 else { return nil }
        let (send, headers) = startSpan(queue: batch.options.queue, count: batch.count, method: batch.method, tracer: tracer)
        if let headers, batch.options.traceparent == nil {
            batch.options.traceparent = headers.traceparent
            batch.options.tracestate = headers.tracestate
        }
        return send
    }

    /// The producer span for `count` jobs (to `queue`, when they share one), and the context
    /// to store with the jobs: nil when the tracer's is not one a job may hold.
    private static func startSpan(queue: String?, count: Int, method: String, tracer: any Tracer) -> (Send, TraceHeaders?) {
        let span = tracer.startSpan(queue.map { "send \($0)" } ?? "send", context: ServiceContext.current ?? .topLevel, ofKind: .producer)
        span.updateAttributes { attributes in
            attributes["messaging.system"] = "porter"
            attributes["messaging.operation.type"] = "send"
            attributes["messaging.operation.name"] = "send"
            if let queue { attributes["messaging.destination.name"] = queue }
            if count > 1 {
                attributes["messaging.batch.message_count"] = count
            } else {
                attributes["porter.job.method"] = method
            }
        }
        var headers = TraceHeaders()
        tracer.inject(span.context, into: &headers, using: TraceHeadersInjector())
        let storable = headers.traceparent.map(TraceHeaders.isValidTraceparent) == true
            && (headers.tracestate.map({ $0.utf8.count <= TraceHeaders.maxTracestateBytes }) ?? true)
        return (Send(span: span), storable ? headers : nil)
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
