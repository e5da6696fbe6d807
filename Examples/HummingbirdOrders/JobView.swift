import Foundation

/// An order's job: status, attempts, last progress and error.
struct JobView: Codable, Sendable {
    var id: Int64
    var status: String
    var attempts: Int
    var progress: Progress?
    var error: String?

    /// Porter's progress object: `{"percent", "title", "description"}`.
    struct Progress: Codable, Sendable {
        var percent: Double
        var title: String?
        var description: String?
    }

    /// The statuses a job does not leave.
    static let endStatuses: Set<String> = ["finished", "failed", "canceled"]

    /// This view as JSON, for the `status` event.
    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
