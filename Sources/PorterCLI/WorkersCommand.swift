import ArgumentParser
import Foundation
import Porter

/// `porter workers`: the worker processes registered in porter.workers, with what they serve
/// and how busy they are.
struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "List live workers: host, pid, queues, methods, busy slots, last heartbeat.",
        discussion: """
            A worker is listed from its start to its shutdown; one silent for its rescue_after \
            is shown as dead until a rescuer removes it. Slots are counted at each heartbeat.
            """)

    @Flag(help: "Print JSON lines instead of a table.")
    var json = false

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let porter = try connection.makeClient(maximumConnections: 1)
        let workers = try await porter.workers()
        await porter.close()
        if json {
            for worker in workers { say(Self.json(worker)) }
            return
        }
        say(Self.table(workers, now: Date()))
    }

    static func table(_ workers: [WorkerRecord], now: Date) -> String {
        guard !workers.isEmpty else { return "(no worker is registered)" }
        let header = ["ID", "HOST", "PID", "QUEUES", "METHODS", "SLOTS", "HEARTBEAT", "STATE"]
        let rows = workers.map { worker in
            [
                worker.id, worker.host, String(worker.pid), worker.queues.joined(separator: ","),
                worker.methods.joined(separator: ","), "\(worker.slotsBusy)/\(worker.slots)",
                "\(StatsCommand.seconds(max(0, now.timeIntervalSince(worker.heartbeatAt)))) ago",
                worker.alive ? "alive" : "dead",
            ]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }

    static func json(_ worker: WorkerRecord) -> String {
        let object: [String: Any] = [
            "id": worker.id, "host": worker.host, "pid": worker.pid, "queues": worker.queues, "methods": worker.methods,
            "slots": worker.slots, "slots_busy": worker.slotsBusy, "alive": worker.alive,
            "started_at": JobFormatting.timestamp(worker.startedAt), "heartbeat_at": JobFormatting.timestamp(worker.heartbeatAt),
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
