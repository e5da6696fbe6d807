import Foundation
import Porter
import PorterPostgres
import PorterPostgresNIO
import PorterTesting
import PostgresNIO
import Testing
import Tracing

/// Issue 23 on postgres-nio (and so Fluent, which enqueues through it): the enqueue takes the
/// trace context from the current ServiceContext through the process's tracer.
@Suite struct PostgresConnectionTracingTests {
    @Test func anEnqueueOnAConnectionMakesASendSpanUnderTheCurrentContextAndStoresItsTraceparent() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let tracer = RecordingTracer()
        let request = tracer.startSpan("POST /orders", context: .topLevel, ofKind: .server)
        // The tracer scoped to this task: the process's bootstrap is left alone.
        let results = try await withTracer(tracer) {
            try await ServiceContext.withValue(request.context) {
                try await withPostgresClient(database) { client in
                    try await client.withTransaction(logger: testLogger) { connection in
                        let one = try await connection.enqueue(SendConfirmation(orderID: 1), options: EnqueueOptions(queue: "short"), logger: testLogger)
                        let many = try await connection.enqueueMany([EnqueueRequest(method: "app.b")], logger: testLogger)
                        return [one] + many
                    }
                }
            }
        }
        request.end()
        let sends = tracer.finished.filter { $0.kind == .producer }
        #expect(sends.count == 2)
        let one = try #require(results[0].id)
        let send = try #require(sends.first { $0.attributes["messaging.message.id"] == "\(one)" })
        #expect(send.name == "send short")
        #expect(send.parent == request.identity)
        #expect(send.attributes["porter.job.method"] == SendConfirmation.method)
        for (result, span) in zip(results, sends) {
            let id = try #require(result.id)
            let stored = try await porter.pool.query("SELECT traceparent FROM porter.jobs WHERE id = \(id)").single(String?.self)
            #expect(stored == span.identity.traceparent)
        }
        await porter.close()
    }

    @Test func aMalformedTraceparentOnAConnectionIsRefusedBeforeAnythingIsSent() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let error = await #expect(throws: PorterError.self) {
            try await withPostgresClient(database) { client in
                try await client.withConnection { connection in
                    _ = try await connection.enqueue(method: "app.a", options: EnqueueOptions(traceparent: "00-nope"), logger: testLogger)
                }
            }
        }
        #expect(error?.code == .invalidArgument(parameter: "traceparent"))
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs").single(Int.self) == 0)
        await porter.close()
    }
}
