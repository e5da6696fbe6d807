import ArgumentParser
import Foundation
import Porter

/// `porter stats`: per queue, waiting, running and failed jobs, throughput, lag, wait and run
/// percentiles, and whether it is paused; and the live workers' slots.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show each queue's depth, lag, failures, throughput, wait and run times, and the workers' slots.",
        discussion: """
            The figures of SELECT porter.stats(). queued counts jobs that may run now, scheduled \
            those waiting for a future run_at. Throughput and percentiles come from the live \
            workers (the last minute; the last five minutes). Each flow-control limit follows, \
            with the jobs running against it and those waiting because it is full. --json prints \
            porter.stats()'s object, whose keys are a contract for scripts.
            """)

    @Flag(help: "Print porter.stats()'s JSON object (one line per refresh with --watch).")
    var json = false

    @Flag(help: "Refresh every --interval seconds until interrupted.")
    var watch = false

    @Option(help: "Seconds between refreshes with --watch, \(StatsCommand.intervalRange.text).")
    var interval: Int = 2

    @OptionGroup var connection: ConnectionOptions

    static let intervalRange = FlagRange("--interval", 1...3600, of: "a whole number of seconds")

    func validate() throws {
        try Self.intervalRange.check(interval)
    }

    func run() async throws {
        let porter = try connection.makeClient(maximumConnections: 1)
        let terminal = isatty(STDOUT_FILENO) != 0
        repeat {
            if json {
                say(try await porter.statsJSON().text)
            } else {
                let table = Self.table(try await porter.stats())
                // On a terminal the table is redrawn in place; piped, each refresh follows the last.
                say(watch && terminal ? "\u{1B}[H\u{1B}[2J" + table : table + (watch ? "\n" : ""))
            }
            if watch { try await Task.sleep(for: .seconds(interval)) }
        } while watch
        await porter.close()
    }

    static func table(_ stats: PorterStats) -> String {
        let header = ["QUEUE", "QUEUED", "SCHEDULED", "DEFERRED", "STARTED", "FAILED 1H", "FAILED 1D", "FINISHED/MIN",
                      "LAG", "WAIT P50", "WAIT P95", "RUN P50", "RUN P95", "SLOTS", ""]
        let rows = stats.queues.map { queue in
            [
                queue.queue, String(queue.queued), String(queue.scheduled), String(queue.deferred), String(queue.started),
                String(queue.failedLastHour), String(queue.failedLastDay), String(queue.finishedPerMinute),
                seconds(queue.lagSeconds), seconds(queue.waitP50Seconds), seconds(queue.waitP95Seconds),
                seconds(queue.runP50Seconds), seconds(queue.runP95Seconds), "\(queue.slotsBusy)/\(queue.slots)",
                queue.paused ? "paused" : "",
            ]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        var lines = ([header] + rows).map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        if stats.queues.isEmpty { lines.append("(no queue has jobs or workers)") }
        if !stats.limits.isEmpty {
            lines.append("")
            lines += limitTable(stats.limits)
        }
        lines.append("")
        lines.append("workers \(stats.workers), slots busy \(stats.slotsBusy) of \(stats.slots)")
        return lines.joined(separator: "\n")
    }

    /// The flow-control limits: scope, limit, and how many run against it and wait because of it.
    static func limitTable(_ limits: [PorterStats.Limit]) -> [String] {
        let header = ["LIMIT QUEUE", "SCOPE", "MAX RUNNING", "MAX STARTS", "RUNNING", "WAITING", ""]
        let rows = limits.map { entry in
            let limit = entry.limit
            return [
                limit.queue, limit.limitKey.map { "key \($0)" } ?? limit.scope,
                limit.maxRunning.map(String.init) ?? "-",
                limit.maxStarts.map { "\($0) per \(seconds(limit.perSeconds))" } ?? "-",
                String(entry.running), String(entry.waiting), limit.fair ? "fair" : "",
            ]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }

    /// A number of seconds as a person reads it: 850 µs, 12 ms, 3.4 s, 5 m 20 s, 2 h 5 m.
    static func seconds(_ value: Double?) -> String {
        guard let value else { return "-" }
        switch value {
        case 0: return "0"
        case ..<0.001: return "\(Int((value * 1e6).rounded())) µs"
        case ..<1: return "\(Int((value * 1000).rounded())) ms"
        case ..<60: return String(format: "%.1f s", value)
        case ..<3600: return "\(Int(value) / 60) m \(Int(value) % 60) s"
        default: return "\(Int(value) / 3600) h \(Int(value) % 3600 / 60) m"
        }
    }
}
