import ArgumentParser
import Porter

/// `porter pause QUEUE`: no worker claims the queue's jobs until `porter resume`.
struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Pause a queue: workers stop claiming its jobs within about a second; running jobs finish.",
        discussion: "Kept in the database, for every worker and across restarts. Jobs can still be enqueued.")

    @Argument(help: "The queue to pause.")
    var queue: String

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let porter = try connection.makeClient(maximumConnections: 1)
        if try await porter.pauseQueue(queue) {
            print("queue \(queue) is paused; `porter resume \(queue)` resumes it")
        } else {
            print("queue \(queue) was paused already")
        }
    }
}
