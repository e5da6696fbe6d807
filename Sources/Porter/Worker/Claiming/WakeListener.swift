import Logging
import PorterPostgres

/// A worker's LISTEN connection: wakes a queue's claimers when `porter_enqueue` names the
/// queue, stops a running attempt when `porter_cancel` names its job, and wakes every claimer
/// once it listens and after a reconnect (a notification may have been missed). Polling
/// catches whatever it misses; a worker started with `poll_only` runs without it.
struct WakeListener: Sendable {
    /// Where to listen.
    let connection: PQConfiguration
    /// Each queue's claimers.
    let claimers: [String: [QueueClaimer]]
    /// The attempts a cancel can reach.
    let running: RunningAttempts
    /// Where it logs.
    let logger: Logger

    /// Listens until cancelled.
    func run() async {
        let listener = PQListener(connection, logger: logger)
        defer { listener.stop() }
        let events = listener.events()
        do {
            try await listener.listen(PorterChannel.enqueue)
            try await listener.listen(PorterChannel.cancel)
        } catch {
            logger.info("could not listen; relying on polling", metadata: ["error": "\(error)"])
            return
        }
        // The claimers' first claims ran beside the LISTENs: a job enqueued between such a claim
        // and its queue's LISTEN sent its wake-up to nobody, and would wait for the poll.
        for claimer in claimers.values.joined() { claimer.wake() }
        await withTaskCancellationHandler {
            for await event in events {
                switch event {
                case .notification(let notification) where notification.channel == PorterChannel.enqueue:
                    for claimer in claimers[notification.payload] ?? [] { claimer.wake() }
                case .notification(let notification):
                    if let id = Int64(notification.payload) { running.stop(job: id, .canceled) }
                case .reconnected:
                    for claimer in claimers.values.joined() { claimer.wake() }
                }
            }
        } onCancel: {
            listener.stop()
        }
    }
}
