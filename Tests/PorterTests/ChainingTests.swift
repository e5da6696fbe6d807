import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

struct ChainedStep: Job {
    static let method = "test.chained_step"
    var note: String
    var failAfterEnqueue: Bool
}

struct FollowUp: Job {
    static let method = "test.follow_up"
    var after: String
}

@Suite struct ChainingTests {
    @Test func sqlJobsFollowUpExistsOnlyWhenTheJobCommitted() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        // Enqueues its follow-up inside the job's own transaction, then maybe raises.
        try await porter.pool.query("""
            CREATE FUNCTION app.chain(args jsonb) RETURNS void LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM porter.enqueue('test.follow_up', jsonb_build_object('after', args->>'note'), queue => 'short');
                IF (args->>'fail')::boolean THEN
                    RAISE EXCEPTION 'stock feed for % is down', args->>'note';
                END IF;
            END $$
            """)
        let good = try #require(try await porter.enqueue(method: "sql:app.chain", args: PQJSON(text: #"{"note": "good", "fail": false}"#)).id)
        let bad = try #require(try await porter.enqueue(method: "sql:app.chain", args: PQJSON(text: #"{"note": "bad", "fail": true}"#)).id)
        let worker = RunningWorker(porter, fastConfiguration(), queues: ["default"])
        try await waitForJob(porter, good, .finished)
        try await waitForJob(porter, bad, .failed)
        try await worker.shutdown()
        let followUps = try await porter.jobs().filter { $0.method == FollowUp.method }
        #expect(followUps.count == 1)
        #expect(try followUps.first?.decodeArgs(as: FollowUp.self).after == "good")
        #expect(followUps.first?.queue == "short")
        await porter.close()
    }

    @Test func swiftJobFinishCommitsItsEffectsFollowUpAndStatusTogether() async throws {
        let database = try await TestDatabase.create()
        var registry = JobRegistry()
        registry.register(ChainedStep.self) { step, context in
            struct Abandon: Error {}
            try await context.finish { transaction in
                try transaction.query("INSERT INTO app.effects (job, note) VALUES (\(context.id), \(step.note))")
                try await context.porter.enqueue(FollowUp(after: step.note), options: EnqueueOptions(queue: "short"), on: transaction)
                if step.failAfterEnqueue { throw Abandon() }
            }
        }
        let porter = database.makeClient(registry: registry)
        try await createSQLJobs(porter)
        let good = try #require(try await porter.enqueue(ChainedStep(note: "good", failAfterEnqueue: false)).id)
        let bad = try #require(try await porter.enqueue(ChainedStep(note: "bad", failAfterEnqueue: true)).id)
        let worker = RunningWorker(porter, fastConfiguration(), queues: ["default"])
        let finished = try await waitForJob(porter, good, .finished)
        let failed = try await waitForJob(porter, bad, .failed)
        try await worker.shutdown()

        #expect(finished.attempts == 1)
        #expect(failed.error?.contains("Abandon") == true)
        #expect(try await effects(porter, job: good) == 1)
        #expect(try await effects(porter, job: bad) == 0)
        let followUps = try await porter.jobs().filter { $0.method == FollowUp.method }
        #expect(try followUps.map { try $0.decodeArgs(as: FollowUp.self).after } == ["good"])
        // The follow-up was committed with the job's finished status, not after it: both rows
        // were last written by one transaction.
        let followUp = try #require(followUps.first)
        let writers = try await porter.pool.query(
            "SELECT count(DISTINCT xmin::text) FROM porter.jobs WHERE id IN (\(good), \(followUp.id))").single(Int.self)
        #expect(writers == 1)
        #expect(try #require(finished.endedAt) >= followUp.enqueuedAt)
        await porter.close()
    }
}
