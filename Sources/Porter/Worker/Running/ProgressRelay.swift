import Logging
import PorterPostgres

/// Relays an sql: job's progress while the job's transaction is still open.
///
/// Inside the job's transaction `porter.publish_progress` raises a NOTICE whose detail is the
/// progress object (migration 0012), which the server sends at once. The relay stores and
/// publishes it from a connection of its own, committed at once, so listeners see the job
/// move while it runs, and the job's transaction never locks its row (which would make
/// `porter cancel` wait for the job to end). Progress reported faster than the relay can
/// write is coalesced: intermediate steps may be skipped, never the latest one.
struct ProgressRelay: Sendable {
    private let job: Int64
    private let pool: PQPool
    private let logger: Logger
    private let stream = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(1))
    private let done = OneShot<Void>()

    /// The NOTICE message that carries progress.
    static let noticeMessage = "porter.progress"

    init(job: Int64, pool: PQPool, logger: Logger) {
        self.job = job
        self.pool = pool
        self.logger = logger
    }

    /// For `PQConnection.setNoticeHandler`: hands progress notices to `run()`.
    var noticeHandler: @Sendable (PQNotice) -> Void {
        { [continuation = stream.continuation] notice in
            if notice.message == Self.noticeMessage, let detail = notice.detail { continuation.yield(detail) }
        }
    }

    /// Writes relayed progress until `finish()`.
    func run() async {
        for await progress in stream.stream {
            do {
                try await pool.query(RealtimeQueries.relayProgress(job: job, progress: PQJSON(text: progress)))
            } catch {
                logger.info("could not relay an sql: job's progress", metadata: ["porter.job.id": "\(job)", "error": "\(error)"])
            }
        }
        done.offer(())
    }

    /// Returns once every progress received so far is written, and ends `run()`.
    func finish() async {
        stream.continuation.finish()
        await done.value
    }
}
