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
        let ended: Int32?
        do {
            try await listener.start()
            ended = try await follow(listener, porter: porter)
        } catch {
            listener.stop()
            await porter.close()
            throw error
        }
        listener.stop()
        await porter.close()
        if let ended { throw ExitCode(ended) }
    }

    /// Prints events until the followed job ends (its exit status) or the stream does (nil).
    private func follow(_ listener: RealtimeListener, porter: PorterClient) async throws -> Int32? {
        // Following a job, every event about it is read, so that its end is seen even when
        // --event shows only some of them.
        let events = listener.events(named: job == nil ? event : nil, job: job)
        let output: any EventOutput = (json || isatty(STDOUT_FILENO) == 0) ? JSONLinesOutput() : ProgressBoard()
        if event == nil || event == "progress" {
            for current in try await listener.currentProgress(job: job) { output.show(current) }
        }
        if let job {
            guard let status = try await porter.jobStatus(id: job) else {
                throw ValidationError("no job has id \(job); list jobs with porter jobs.")
            }
            // A job that ended before the LISTEN took effect sends no end event.
            if Self.exitCode(status) != nil { return showEnd(status, of: job, on: output) }
        }
        // Said once the starting state is shown: from here on, every event is printed.
        FileHandle.standardError.write(Data("watching \(RealtimeListener.channel)\(job.map { " for job \($0)" } ?? "")\n".utf8))
        let polledEnd = Locked<JobStatus?>(nil)
        return await withTaskGroup(of: Void.self) { group in
            defer { group.cancelAll() }
            if let job {
                group.addTask { await Self.pollForEnd(of: job, porter: porter, listener: listener, into: polledEnd) }
            }
            // Following a job, the listener delivers an end event only once the job's row
            // shows it: a forged `finished` cannot end the watch.
            for await item in events {
                if event == nil || item.event == event { output.show(item) }
                if job != nil, let ended = Self.exitCode(JobStatus(rawValue: item.event)) { return ended }
            }
            // The stream ended: the poll found the job ended without an end event.
            guard let job, let status = polledEnd.value else { return nil }
            return showEnd(status, of: job, on: output)
        }
    }

    /// Shows the end of the followed job that no event announced (unless --event filters it
    /// out), and returns its exit status.
    private func showEnd(_ status: JobStatus, of job: Int64, on output: any EventOutput) -> Int32? {
        if event == nil || event == status.rawValue {
            output.show(RealtimeEvent(event: status.rawValue, job: job, message: PQJSON(text: "{}")))
        }
        return Self.exitCode(status)
    }

    /// Checks the followed job's row every second, for an end whose event never comes: a
    /// worker with "job_events": false, or an end while the LISTEN connection was down. Once
    /// the row has ended and its event has not come within another second, it records the
    /// end and ends the stream.
    private static func pollForEnd(
        of job: Int64, porter: PorterClient, listener: RealtimeListener, into end: Locked<JobStatus?>
    ) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            guard let status = try? await porter.jobStatus(id: job), exitCode(status) != nil else { continue }
            try? await Task.sleep(for: .seconds(1))
            guard !Task.isCancelled else { return }
            end.value = status
            listener.stop()
            return
        }
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
