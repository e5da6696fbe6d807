import Tracing

/// The consumer side of Porter's tracing: a `process <queue>` span per attempt (OTel's
/// messaging conventions), linked to the context the job was enqueued with, or its child
/// (`WorkerConfiguration.traceParenting`). The handler runs with the span as its current
/// `ServiceContext`, so its own enqueues, database and HTTP calls nest under it.
///
/// A worker whose tracer is the no-op one never gets here (`JobExecutor.tracer` is nil).
struct AttemptTracing: Sendable {
    let tracer: any Tracer
    let parenting: TraceParenting

    /// Runs `body` (the attempt) inside its span, and ends the span with the attempt's outcome.
    /// `maxAttempts` is the job's, else its queue's: whether a failure is retried.
    func run(
        _ attempt: JobAttempt, maxAttempts: Int, maxOrphaned: Int, _ body: () async -> AttemptEnd
    ) async -> AttemptEnd {
        let job = attempt.job
        var stored = ServiceContext.topLevel
        if let headers = attempt.traceHeaders {
            tracer.extract(headers, into: &stored, using: TraceHeadersExtractor())
        }
        let parent = attempt.traceHeaders != nil && parenting == .child ? stored : (ServiceContext.current ?? .topLevel)
        let span = tracer.startSpan("process \(job.queue)", context: parent, ofKind: .consumer)
        if attempt.traceHeaders != nil && parenting == .link {
            span.addLink(SpanLink(context: stored, attributes: [:]))
        }
        span.updateAttributes { attributes in
            attributes["messaging.system"] = "porter"
            attributes["messaging.operation.type"] = "process"
            attributes["messaging.operation.name"] = "process"
            attributes["messaging.destination.name"] = job.queue
            attributes["messaging.message.id"] = "\(job.id)"
            attributes["porter.job.method"] = job.method
            attributes["porter.job.attempt"] = job.attempt
            attributes["porter.job.wait_seconds"] = job.waitSeconds
            if let jobID = job.jobID { attributes["porter.job.job_id"] = jobID }
        }
        let end = await ServiceContext.withValue(span.context) { await body() }
        let outcome = Self.outcome(of: end, attempt: job.attempt, maxAttempts: maxAttempts, orphaned: job.orphaned, maxOrphaned: maxOrphaned)
        span.attributes["porter.job.outcome"] = outcome.name
        if let message = outcome.error {
            span.recordError(AttemptError(message: message))
            span.setStatus(SpanStatus(code: .error, message: message))
        }
        span.end()
        return end
    }

    /// The span's `porter.job.outcome`, and the error of an attempt that failed.
    static func outcome(
        of end: AttemptEnd, attempt: Int, maxAttempts: Int, orphaned: Int, maxOrphaned: Int
    ) -> (name: String, error: String?) {
        let transition = JobTransition.after(
            end, attempt: attempt, maxAttempts: maxAttempts, orphaned: orphaned, maxOrphaned: maxOrphaned,
            retryDelay: { _ in .zero })
        switch end {
        case .returned, .finishedInOwnTransaction:
            return ("finished", nil)
        case .threw(let message, _):
            return (transition?.status == .scheduled ? "retry" : "failed", message)
        case .timedOut:
            return ("timeout", transition?.error ?? "timed out")
        case .canceled:
            return ("canceled", nil)
        case .stoppedByShutdown:
            return ("requeued", nil)
        case .handedBack:
            return ("handed_back", nil)
        case .lostClaim:
            return ("lost", nil)
        case .connectionLost(let message):
            return (transition?.status == .failed ? "failed" : "requeued", message)
        }
    }

    /// An attempt's failure as a span records it: the message stored in `porter.jobs.error`.
    struct AttemptError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
