import Foundation
import PorterPostgres

/// An event published with `publish_realtime` or `publish_progress`, as delivered on channel
/// `porter_realtime`: `{"event": ..., "job": <id or null>, "message": {...}}`.
public struct RealtimeEvent: Sendable, Hashable {
    /// The event's name; `progress` for progress updates.
    public var event: String
    /// The job it concerns, if any.
    public var job: Int64?
    /// The message, a JSON object.
    public var message: PQJSON

    /// An event as `porter_realtime` delivers it.
    public init(event: String, job: Int64?, message: PQJSON) {
        self.event = event
        self.job = job
        self.message = message
    }

    /// A progress event's message: `{"percent": …, "title": …, "description": …}`.
    public struct Progress: Codable, Sendable, Hashable {
        /// How far the job is, from 0 to 100.
        public var percent: Double
        /// What the job is doing, e.g. `Syncing stock`.
        public var title: String?
        /// The current step, e.g. `outlet 3 of 7`.
        public var description: String?

        /// Progress at `percent`, with an optional title and step.
        public init(percent: Double, title: String? = nil, description: String? = nil) {
            self.percent = percent
            self.title = title
            self.description = description
        }
    }

    /// The message decoded as progress, for `progress` events.
    public var progress: Progress? {
        guard event == "progress" else { return nil }
        return try? message.decode(Progress.self)
    }

    /// The wire payload: either the whole event, or a reference to a stored one.
    struct Payload: Decodable {
        var event: String
        var job: Int64?
        var ref: Int64?
    }
}
