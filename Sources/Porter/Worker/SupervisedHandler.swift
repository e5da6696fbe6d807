import Foundation
import Logging
import PorterPostgres

/// Runs a Swift handler against its deadline and stop requests.
///
/// At the deadline, or on a stop, the handler's task is cancelled. A handler that ignores
/// cancellation gets `cancelGrace` to end; after that its slot is released anyway and this is
/// logged, since a task cannot be killed. The handler runs in a task of its own, unstructured
/// on purpose: nobody may have to wait for a handler that never ends.
enum HandlerRace {
    private enum Event: Sendable {
        case done(Result<PostgresJSON?, any Error>)
        case timedOut
        case stopped
    }

    /// `deadlines` is the worker's shared timer; without one (inline `now` runs) the race
    /// arms a timer of its own.
    static func run(
        timeout: Duration, cancelGrace: Duration, control: JobControl, logger: @autoclosure () -> Logger,
        deadlines: JobDeadlines? = nil, handler: @escaping @Sendable () async throws -> PostgresJSON?
    ) async -> JobOutcome {
        let first = FirstEvent<Event>()
        let work = Task {
            let result: Result<PostgresJSON?, any Error>
            do { result = .success(try await handler()) } catch { result = .failure(error) }
            first.offer(.done(result))
            return result
        }
        let disarm: @Sendable () -> Void
        if let deadlines {
            let token = deadlines.add(.now + timeout) { first.offer(.timedOut) }
            disarm = { deadlines.remove(token) }
        } else {
            let timer = Task {
                try await Task.sleep(for: timeout)
                first.offer(.timedOut)
            }
            disarm = { timer.cancel() }
        }
        control.onStop { first.offer(.stopped) }
        let event = await first.value
        disarm()

        switch event {
        case .done(.success(let result)):
            return .finished(result: result)
        case .done(.failure(let error)):
            if let reason = control.stopReason { return reason.outcome }
            return .failed(error: describe(error), retryable: !isPermanent(error))
        case .timedOut, .stopped:
            work.cancel()
            let ended = FirstEvent<Bool>()
            Task {
                _ = await work.value
                ended.offer(true)
            }
            let graceTimer = Task {
                try await Task.sleep(for: cancelGrace)
                ended.offer(false)
            }
            if await ended.value {
                graceTimer.cancel()
            } else {
                logger().info(
                    "handler ignored cancellation for \(cancelGrace); releasing its slot while it still runs",
                    metadata: ["porter.cancel_grace": "\(cancelGrace)"])
            }
            if case .timedOut = event {
                return .failed(error: "timed out after \(Int(timeout.seconds.rounded())) s", retryable: true)
            }
            return control.stopReason?.outcome ?? .canceled
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
        case .invalidArgument, .unknownMethod, .unknownDoctype, .documentNotFound, .unknownDocumentMethod: return true
        default: return false
        }
    }
}

/// The first of several events offered from anywhere; later offers are ignored.
final class FirstEvent<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: T?
    private var waiter: CheckedContinuation<T, Never>?

    func offer(_ value: T) {
        let waiter = lock.withLock { () -> CheckedContinuation<T, Never>? in
            guard result == nil else { return nil }
            result = value
            defer { self.waiter = nil }
            return self.waiter
        }
        waiter?.resume(returning: value)
    }

    /// Waits for the first offer (one waiter only).
    var value: T {
        get async {
            await withCheckedContinuation { continuation in
                let ready = lock.withLock { () -> T? in
                    if let result { return result }
                    waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
