import ArgumentParser
import Porter

/// `porter resume QUEUE`: workers claim the queue's jobs again, at once.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Resume a paused queue; its workers are woken and claim at once.")

    @Argument(help: "The queue to resume.")
    var queue: String

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let porter = try connection.makeClient(maximumConnections: 1)
        if try await porter.resumeQueue(queue) {
            print("queue \(queue) is running again")
        } else {
            print("queue \(queue) was not paused")
        }
    }
}
