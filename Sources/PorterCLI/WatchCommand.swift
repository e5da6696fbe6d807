import ArgumentParser
import Foundation
import Porter
import PorterPostgres

/// `porter watch`: follows realtime events. On a terminal, a live progress bar per running job
/// and a line per other event; when piped (or with --json), one JSON object per line, in the
/// wire format `{"event": ..., "job": ..., "message": {...}}`.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow progress and events live (JSON lines when piped).",
        discussion: """
            Starts with the stored progress of running jobs, so a late watcher sees where they \
            stand. With --job, exits when that job ends: 0 when it finished, 1 when it failed or \
            was canceled.
            """)

    @Option(help: "Only events with this name (e.g. progress, finished, stock_sync_done).")
    var event: String?

    @Option(help: "Only events about this job; exit when it ends.")
    var job: Int64?

    @Flag(help: "Print JSON lines even on a terminal.")
    var json = false

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let porter = try connection.makeClient(maximumConnections: 2)
        let listener = RealtimeListener(client: porter)
        try await listener.start()
        let events = listener.events(named: event, job: job)
        let output: any EventOutput = (json || isatty(STDOUT_FILENO) == 0) ? JSONLinesOutput() : ProgressBoard()
        FileHandle.standardError.write(Data("watching \(RealtimeListener.channel)\(job.map { " for job \($0)" } ?? "")\n".utf8))

        if event == nil || event == "progress" {
            for current in try await listener.currentProgress(job: job) { output.show(current) }
        }
        // A job that ended before the LISTEN took effect would never send its end event.
        if let job, let record = try await porter.job(id: job), let ended = Self.exitCode(record.status) {
            output.show(RealtimeEvent(event: record.status.rawValue, job: job, message: PostgresJSON(text: "{}")))
            listener.stop()
            await porter.close()
            throw ExitCode(ended)
        }
        for await item in events {
            output.show(item)
            if let job, item.job == job, let ended = Self.exitCode(JobStatus(rawValue: item.event)) {
                listener.stop()
                await porter.close()
                throw ExitCode(ended)
            }
        }
        await porter.close()
    }

    /// The exit status for a job that ended with `status`; nil while it has not ended.
    static func exitCode(_ status: JobStatus?) -> Int32? {
        switch status {
        case .finished: 0
        case .failed, .canceled: 1
        default: nil
        }
    }
}
