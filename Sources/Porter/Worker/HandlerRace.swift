import Logging
import PorterPostgres

/// Runs a Swift handler against its deadline and stop requests.
///
/// At the deadline, or on a stop, the handler's task is cancelled. A handler that ignores
/// cancellation gets `cancelGrace` to end; after that its slot is released anyway and this is
/// logged, since a task cannot be killed.
enum HandlerRace {
    private enum Event: Sendable {
        case done(Result<PostgresJSON?, any Error>)
        case timedOut
        case stopped
    }

    static func run(
        timeout: Duration, cancelGrace: Duration, control: JobControl, logger: Logger,
        handler: @escaping @Sendable () async throws -> PostgresJSON?
    ) async -> JobOutcome {
        let work = Task { try await handler() }
        let stopSignal = AsyncStream<Void>.makeStream()
        control.onStop { stopSignal.continuation.yield() }
        let event = await firstOf([
            { .done(await work.result) },
            {
                try? await Task.sleep(for: timeout)
                return .timedOut
            },
            {
                var iterator = stopSignal.stream.makeAsyncIterator()
                _ = await iterator.next()
                return Task.isCancelled ? .timedOut : .stopped
            },
        ] as [@Sendable () async -> Event])
        stopSignal.continuation.finish()

        switch event {
        case .done(.success(let result)):
            return .finished(result: result)
        case .done(.failure(let error)):
            if let reason = control.stopReason { return reason == .shutdown ? .requeue : .canceled }
            return .failed(error: describe(error), retryable: !isPermanent(error))
        case .timedOut, .stopped:
            work.cancel()
            let ended = await firstOf([
                {
                    _ = await work.result
                    return true
                },
                {
                    try? await Task.sleep(for: cancelGrace)
                    return false
                },
            ] as [@Sendable () async -> Bool])
            if !ended {
                logger.info(
                    "handler ignored cancellation for \(cancelGrace); releasing its slot while it still runs",
                    metadata: ["porter.cancel_grace": "\(cancelGrace)"])
            }
            if case .timedOut = event {
                return .failed(error: "timed out after \(Int(timeout.seconds.rounded())) s", retryable: true)
            }
            return control.stopReason == .shutdown ? .requeue : .canceled
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PorterError { return error.description }
        if let error = error as? PostgresError { return error.description }
        return "\(type(of: error)): \(error)"
    }

    /// Failures another attempt cannot fix.
    static func isPermanent(_ error: any Error) -> Bool {
        guard let error = error as? PorterError else { return false }
        switch error.code {
        case .invalidArgument, .unknownMethod: return true
        default: return false
        }
    }
}
