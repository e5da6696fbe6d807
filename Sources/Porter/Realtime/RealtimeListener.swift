import Foundation
import Logging
import PorterPostgres

/// Listens to `porter_realtime` and delivers `RealtimeEvent`s as an `AsyncSequence`.
///
/// Oversize messages, which travel as a reference, are read back transparently. The
/// connection reconnects on its own; when following one job, its stored progress is re-read
/// after a reconnect, so a listener never ends up behind on a job's progress.
///
/// Events are hints; the job's row is the truth. Any role that can connect may send a
/// notification on `porter_realtime` (PostgreSQL does not restrict NOTIFY), so when following
/// one job, an end event (`finished`, `failed`, `canceled`) is delivered only once the job's
/// row shows that status.
public final class RealtimeListener: Sendable {
    /// The NOTIFY channel every event goes out on.
    public static let channel = PorterChannel.realtime

    private let listener: PQListener
    private let pool: PQPool
    private let logger: Logger

    /// Starts listening; `start()` returns once the server has confirmed the LISTEN.
    public init(client: PorterClient, logger: Logger? = nil) {
        self.pool = client.pool
        self.logger = logger ?? client.logger
        self.listener = PQListener(client.pool.configuration, logger: self.logger)
    }

    /// Waits until events committed from now on will be delivered.
    public func start() async throws {
        try await listener.listen(Self.channel)
    }

    /// Events from now on, optionally only those named `event` and/or about `job`.
    public func events(named event: String? = nil, job: Int64? = nil) -> AsyncStream<RealtimeEvent> {
        let source = listener.events()
        let pool = pool
        let logger = logger
        return AsyncStream { continuation in
            let task = Task {
                for await item in source {
                    switch item {
                    case .notification(let notification):
                        guard let resolved = await Self.resolve(notification.payload, pool: pool, logger: logger) else { continue }
                        if let event, resolved.event != event { continue }
                        if let job, resolved.job != job { continue }
                        if job != nil, Self.endStatuses.contains(resolved.event) {
                            guard await Self.rowConfirms(resolved, pool: pool, logger: logger) else { continue }
                        }
                        continuation.yield(resolved)
                    case .reconnected:
                        // Notifications sent while disconnected are lost; progress is stored.
                        guard let job, event == nil || event == "progress" else { continue }
                        if let progress = try? await pool.query(RealtimeQueries.progress(job: job)).singleOptional(PQJSON.self) {
                            continuation.yield(RealtimeEvent(event: "progress", job: job, message: progress))
                        }
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Where running jobs stand now, as `progress` events from their stored progress: what a
    /// listener who arrives late missed. Optionally for one job.
    public func currentProgress(job: Int64? = nil) async throws -> [RealtimeEvent] {
        try await pool.query(RealtimeQueries.runningProgress(job: job)).map { row in
            RealtimeEvent(event: "progress", job: try row.decode(Int64.self, at: 0), message: try row.decode(PQJSON.self, at: 1))
        }
    }

    /// Stops listening and ends every sequence.
    public func stop() {
        listener.stop()
    }

    /// The events that announce a job's end.
    static let endStatuses: Set<String> = [JobStatus.finished.rawValue, JobStatus.failed.rawValue, JobStatus.canceled.rawValue]

    /// Whether the job's row shows the status an end event announces. A job's end commits
    /// with its event, so the row shows it by the time the event arrives; one that does not is
    /// forged, or out of date (the job was retried since).
    static func rowConfirms(_ event: RealtimeEvent, pool: PQPool, logger: Logger) async -> Bool {
        guard let job = event.job else { return false }
        do {
            if try await pool.query(JobQueries.status(id: job)).singleOptional(String.self) == event.event { return true }
            logger.info(
                "ignoring an end event the job's row does not show",
                metadata: ["porter.job.id": "\(job)", "porter.realtime.event": "\(event.event)"])
        } catch {
            logger.info(
                "could not read the job's row to confirm its end event; ignoring the event",
                metadata: ["porter.job.id": "\(job)", "error": "\(error)"])
        }
        return false
    }

    /// Decodes a payload, reading a stored message when it is a reference.
    static func resolve(_ payload: String, pool: PQPool, logger: Logger) async -> RealtimeEvent? {
        let data = Data(payload.utf8)
        guard let header = try? PQJSON(text: payload).decode(RealtimeEvent.Payload.self) else {
            logger.debug("ignoring a malformed realtime payload")
            return nil
        }
        if let ref = header.ref {
            guard let message = try? await pool.query(RealtimeQueries.storedMessage(id: ref)).singleOptional(PQJSON.self) else {
                logger.info("a stored realtime message is gone", metadata: ["porter.realtime.ref": "\(ref)"])
                return nil
            }
            return RealtimeEvent(event: header.event, job: header.job, message: message)
        }
        // The message object alone, re-encoded with sorted keys.
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let message = object["message"],
            let messageData = try? JSONSerialization.data(withJSONObject: message, options: [.sortedKeys, .fragmentsAllowed])
        else { return nil }
        return RealtimeEvent(event: header.event, job: header.job, message: PQJSON(text: String(decoding: messageData, as: UTF8.self)))
    }
}
