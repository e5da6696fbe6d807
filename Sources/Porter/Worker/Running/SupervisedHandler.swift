import Foundation
import Logging
import PorterPostgres

/// Runs a Swift handler under its deadline and stop requests, and says how it ended.
///
/// At the deadline, or on a stop, the handler's task is cancelled. A handler that ignores
/// cancellation gets `cancelGrace` to end; after that its slot is released anyway and this is
/// logged, since a task cannot be killed. The handler runs in a task of its own, unstructured
/// on purpose: nobody may have to wait for a handler that never ends.
enum SupervisedHandler {
    private enum Event: Sendable {
        case done(Result<PQJSON?, any Error>)
        case timedOut
        case stopped
    }

    /// `deadlines` is the worker's shared timer; without one (inline `now` runs) a timer of
    /// its own is armed.
    static func run(
        timeout: Duration, cancelGrace: Duration, control: JobControl, logger: @autoclosure () -> Logger,
        deadlines: JobDeadlines? = nil, handler: @escaping @Sendable () async throws -> PQJSON?
    ) async -> AttemptEnd {
        let first = OneShot<Event>()
        let work = Task {
            let result: Result<PQJSON?, any Error>
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
            return .returned(result)
        case .done(.failure(let error)):
            // A handler that throws because it was stopped ended for the stop's reason.
            if let reason = control.stopReason { return reason.end }
            return .failure(error)
        case .timedOut, .stopped:
            work.cancel()
            let ended = OneShot<Bool>()
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
                logger().warning(
                    "handler ignored cancellation for \(cancelGrace); releasing its slot while it still runs",
                    metadata: ["porter.cancel_grace": "\(cancelGrace)"])
            }
            if case .timedOut = event { return .timedOut(seconds: Int(timeout.seconds.rounded())) }
            return control.stopReason?.end ?? .canceled
        }
    }
}
