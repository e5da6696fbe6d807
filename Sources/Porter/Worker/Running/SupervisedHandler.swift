import Foundation
import Logging
import PorterPostgres
import Synchronization

/// Runs a Swift handler under its deadline and stop requests, and says how it ended.
///
/// At the deadline, or on a stop, the handler's task is cancelled. A handler that ignores
/// cancellation gets `cancelGrace` to end; after that its slot is released anyway and this is
/// logged, since a task cannot be killed: nobody may have to wait for a handler that never ends.
///
/// A worker runs the handler in the job's own task (`runHere`), which is unstructured for that
/// reason, and hears of an abandoned handler through a callback: a second task per job, to
/// run the handler apart from the one that waits for it, cost a busy worker about a quarter of
/// its CPU per job. An inline `now` run, whose caller must get an answer, runs the handler in
/// a task of its own (`run`).
enum SupervisedHandler {
    /// The timer that fires a handler's deadline and grace.
    enum Timer: Sendable {
        /// The worker's shared timer.
        case shared(JobDeadlines)
        /// A sleeping task per deadline: for an inline `now` run, which has no worker.
        case own

        /// Calls `expire` at `deadline`; returns what disarms it.
        func arm(_ deadline: ContinuousClock.Instant, expire: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
            switch self {
            case .shared(let deadlines):
                let token = deadlines.add(deadline, expire: expire)
                return { deadlines.remove(token) }
            case .own:
                let timer = Task {
                    try await Task.sleep(until: deadline, clock: .continuous)
                    expire()
                }
                return { timer.cancel() }
            }
        }
    }

    /// Runs `handler` in the calling task, which it cancels at the deadline or on a stop, and
    /// returns how it ended once it returns. If it ignores that cancellation for `cancelGrace`,
    /// `abandoned` gets the end first (its slot can be released), and this returns the same
    /// end whenever the handler does, if ever.
    static func runHere(
        timeout: Duration, cancelGrace: Duration, control: JobControl, logger: @escaping @Sendable () -> Logger,
        timer: Timer, abandoned: @escaping @Sendable (AttemptEnd) -> Void,
        handler: () async throws -> PQJSON?
    ) async -> AttemptEnd {
        let supervision = withUnsafeCurrentTask { Supervision(task: $0) }
        let end: @Sendable (Interruption) -> AttemptEnd = { interruption in
            switch interruption {
            case .timedOut: .timedOut(seconds: Int(timeout.seconds.rounded()))
            case .stopped: control.stopReason?.end ?? .canceled
            }
        }
        let interrupt: @Sendable (Interruption) -> Void = { interruption in
            guard supervision.interrupt(interruption) else { return }
            // The handler was cancelled and still runs: give it the grace, then let it go.
            let disarmGrace = timer.arm(.now + cancelGrace) {
                guard supervision.abandon() else { return }
                logger().warning(
                    "handler ignored cancellation for \(cancelGrace); releasing its slot while it still runs",
                    metadata: ["porter.cancel_grace": "\(cancelGrace)"])
                abandoned(end(interruption))
            }
            supervision.onReturn(disarmGrace)
        }
        let disarm = timer.arm(.now + timeout) { interrupt(.timedOut) }
        control.onStop { interrupt(.stopped) }
        let result: Result<PQJSON?, any Error>
        do { result = .success(try await handler()) } catch { result = .failure(error) }
        disarm()
        control.clearOnStop()

        switch supervision.returned() {
        case nil:
            switch result {
            case .success(let value):
                return .returned(value)
            case .failure(let error):
                // A handler that throws because it was stopped ended for the stop's reason.
                if let reason = control.stopReason { return reason.end }
                return .failure(error)
            }
        case let interruption?:
            return end(interruption)
        }
    }

    /// Runs `handler` in a task of its own and returns once it has ended, or once it has
    /// ignored its cancellation for `cancelGrace`: for callers that must answer even then.
    static func run(
        timeout: Duration, cancelGrace: Duration, control: JobControl, logger: @escaping @Sendable () -> Logger,
        handler: @escaping @Sendable () async throws -> PQJSON?
    ) async -> AttemptEnd {
        let first = OneShot<AttemptEnd>()
        Task {
            let end = await runHere(
                timeout: timeout, cancelGrace: cancelGrace, control: control, logger: logger, timer: .own,
                abandoned: { first.offer($0) }, handler: handler)
            first.offer(end)
        }
        return await first.value
    }

    /// Why a handler was cancelled.
    private enum Interruption: Sendable {
        case timedOut
        case stopped
    }

    /// What happened to one handler's run so far, shared by its task and whatever interrupts it.
    private final class Supervision: @unchecked Sendable {
        /// Unchecked: UnsafeCurrentTask is not Sendable, and is touched only under the lock.
        private struct State: @unchecked Sendable {
            /// The handler's task while the handler runs; nil once it has returned, after
            /// which it must not be touched.
            var task: UnsafeCurrentTask?
            var interruption: Interruption?
            var disarmGrace: (@Sendable () -> Void)?
            var isAbandoned = false
        }

        private let state: Mutex<State>

        init(task: UnsafeCurrentTask?) {
            state = Mutex(State(task: task))
        }

        /// The first interruption cancels the handler's task; true if it did, while the
        /// handler still runs.
        func interrupt(_ interruption: Interruption) -> Bool {
            state.withLock { state in
                guard state.interruption == nil, let task = state.task else { return false }
                state.interruption = interruption
                // Under the lock, so that the handler cannot return in between (`returned`).
                // The task's cancellation handlers run here, synchronously; none can reach
                // this supervision, which only its run, its timer and its control know.
                task.cancel()
                return true
            }
        }

        /// Keeps what disarms the grace timer, for `returned`; disarms it now if the handler
        /// has returned already.
        func onReturn(_ disarm: @escaping @Sendable () -> Void) {
            let returned = state.withLock { state -> Bool in
                guard state.task != nil else { return true }
                state.disarmGrace = disarm
                return false
            }
            if returned { disarm() }
        }

        /// The grace is over: true if the handler still runs, which now counts as abandoned.
        func abandon() -> Bool {
            state.withLock { state in
                guard state.task != nil, !state.isAbandoned else { return false }
                state.isAbandoned = true
                return true
            }
        }

        /// The handler has returned; says what interrupted it, if anything did first.
        func returned() -> Interruption? {
            let (interruption, disarm) = state.withLock { state -> (Interruption?, (@Sendable () -> Void)?) in
                state.task = nil
                defer { state.disarmGrace = nil }
                return (state.interruption, state.disarmGrace)
            }
            disarm?()
            return interruption
        }
    }
}
