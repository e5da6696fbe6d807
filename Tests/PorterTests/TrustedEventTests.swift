import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// Job state events are sent by Porter alone, and what acts on a job's end checks its row:
/// any role may NOTIFY porter_realtime, so an event is a hint and the row is the truth.
@Suite struct TrustedEventTests {
    @Test func publishRealtimeRefusesTheJobStateEventNames() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient(maximumConnections: 2)
        let id = try #require(try await porter.enqueue(method: "m").id)
        for name in ["started", "finished", "failed", "canceled", "queued", "scheduled", "deferred"] {
            let swift = try await #require(throws: PQError.self) { try await porter.publishRealtime(event: name, job: id) }
            #expect(swift.sqlState == .invalidParameterValue, "\(name)")
            let refused = try await #require(throws: PQError.self) {
                try await porter.pool.query("SELECT porter.publish_realtime(\(name), '{}', \(id))")
            }
            #expect(refused.sqlState == .invalidParameterValue, "\(name)")
            #expect(refused.column == "event", "\(name)")
            #expect(refused.message.contains("is a job state event, which only Porter sends"), "\(name)")
        }
        // Other names still go out.
        try await porter.publishRealtime(event: "finished_report", job: id)
        await porter.close()
    }

    /// The notification a forger sends: the wire format of a job's `finished` event.
    static func forgeFinished(_ porter: PorterClient, job: Int64) async throws {
        let payload = #"{"job": \#(job), "event": "finished", "message": {"error": null, "queue": "default", "method": "m", "status": "finished", "attempt": 1}}"#
        try await porter.pool.query("SELECT pg_notify('porter_realtime', \(payload))")
    }

    @Test func aListenerFollowingAJobIgnoresAnEndEventItsRowDoesNotShow() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let id = try #require(try await porter.enqueue(method: "m").id)
        let listener = RealtimeListener(client: porter)
        try await listener.start()
        var events = listener.events(job: id).makeAsyncIterator()
        try await Self.forgeFinished(porter, job: id)
        // Sent after the forgery, so it arrives after it.
        try await porter.pool.query("SELECT porter.publish_realtime('sentinel', '{}', \(id))")
        #expect(await events.next()?.event == "sentinel")
        // The job's real end does arrive.
        try await porter.pool.query("UPDATE porter.jobs SET status = 'finished', ended_at = now() WHERE id = \(id)")
        let ended = await events.next()
        #expect(ended?.event == "finished")
        #expect(ended?.job == id)
        listener.stop()
        await porter.close()
    }

    @Test func porterWatchForAJobDoesNotExitOnAForgedFinishedEvent() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let id = try #require(try await porter.enqueue(method: "m").id)
        let watch = try WatchProcess(database: database, arguments: ["--job", String(id)])
        try await watch.waitUntilWatching()
        try await Self.forgeFinished(porter, job: id)
        try await porter.pool.query("SELECT porter.publish_realtime('sentinel', '{}', \(id))")
        try await waitUntil(timeout: .seconds(15), "porter watch to print the sentinel") {
            (try? watch.events().contains { $0.event == "sentinel" }) == true
        }
        // The forged end came first, and the watch is still going.
        #expect(watch.process.isRunning)
        #expect(try watch.events().map(\.event) == ["sentinel"])
        try await porter.pool.query("UPDATE porter.jobs SET status = 'finished', ended_at = now() WHERE id = \(id)")
        #expect(try await watch.waitForExit() == 0)
        #expect(try watch.events().map(\.event) == ["sentinel", "finished"])
        await porter.close()
    }
}
