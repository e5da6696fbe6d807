import ArgumentParser
import Foundation
import Porter

/// `porter workers`: the worker processes registered in `porter.workers`.
struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "List the running workers: host, pid, queues, running jobs and last heartbeat.")

    @Flag(help: "Print JSON lines instead of a table.")
    var json = false

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let porter = try connection.makeClient(maximumConnections: 1)
        let workers: [WorkerRecord]
        do {
            workers = try await porter.workers()
            await porter.close()
        } catch {
            await porter.close()
            throw error
        }
        if json {
            for worker in workers { print(JobFormatting.json(worker)) }
            return
        }
        guard !workers.isEmpty else {
            print("no workers are running; start one with `porter worker`")
            return
        }
        print(JobFormatting.table(workers, now: Date()))
    }
}
