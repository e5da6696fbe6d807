import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

// One test at a time: each runs workers or servers, and every suite shares one PostgreSQL's
// connections (max_connections 500).
@Suite(.serialized) struct PauseTests {
    @Test func aPausedQueueKeepsItsJobsQueuedAndResumeWakesItsWorkerAtOnce() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        // A poll far longer than the wait below: only the resume's notification can wake the claimer.
        // Polls every ten minutes: within the test, only notifications wake it.
        let worker = RunningWorker(porter, fastConfiguration { $0.pollInterval = .seconds(600) }, queues: ["default", "short"])
        #expect(try await porter.pauseQueue("default"))
        #expect(try await porter.pauseQueue("default") == false)
        // Enqueueing is still accepted while paused.
        let held = try #require(try await porter.enqueue(method: "sql:app.record").id)
        // The other queue runs on: its job finishing proves the worker is awake and claiming.
        let other = try #require(try await porter.enqueue(method: "sql:app.record", options: EnqueueOptions(queue: "short")).id)
        try await waitForJob(porter, other, .finished)
        // A claim after every enqueue notification and heartbeat: the paused one stays queued.
        try await waitForHeartbeats(porter, 3)
        #expect(try await porter.job(id: held)?.status == .queued)
        #expect(try await porter.stats()[queue: "default"]?.paused == true)

        #expect(try await porter.resumeQueue("default"))
        // Woken by resume_queue's porter_enqueue, since no poll comes for ten minutes.
        try await waitForJob(porter, held, .finished, timeout: .seconds(120))
        #expect(try await porter.resumeQueue("default") == false)
        #expect(try await porter.stats()[queue: "default"]?.paused == false)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func aJobRunningWhenItsQueueIsPausedFinishes() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        try await createGates(porter)
        let worker = RunningWorker(porter, fastConfiguration())
        let running = try #require(try await porter.enqueue(method: "sql:app.wait_gate", args: PQJSON(text: #"{"gate": "g"}"#)).id)
        try await waitForJob(porter, running, .started)
        try await porter.pauseQueue("default")
        let waiting = try #require(try await porter.enqueue(method: "sql:app.record").id)
        try await openGate("g", porter)
        let job = try await waitForJob(porter, running, .finished)
        #expect(job.result?.text == #""g""#)
        try await waitForHeartbeats(porter, 2)
        #expect(try await porter.job(id: waiting)?.status == .queued)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func pauseHoldsForEveryWorkerAndAcrossARestart() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        // Paused from SQL, as another language's client would.
        #expect(try await porter.pool.query("SELECT porter.pause_queue('default')").single(Bool.self))
        let id = try #require(try await porter.enqueue(method: "sql:app.record").id)
        let first = RunningWorker(porter, fastConfiguration())
        let second = RunningWorker(porter, fastConfiguration())
        try await waitForHeartbeats(porter, 3)
        try await first.shutdown()
        try await second.shutdown()
        #expect(try await porter.job(id: id)?.status == .queued)
        let restarted = RunningWorker(porter, fastConfiguration())
        try await waitForHeartbeats(porter, 2)
        #expect(try await porter.job(id: id)?.status == .queued)
        #expect(try await porter.pool.query("SELECT porter.resume_queue('default')").single(Bool.self))
        try await waitForJob(porter, id, .finished)
        try await restarted.shutdown()
        await porter.close()
    }

    @Test func pauseRefusesAMissingQueueName() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let empty = await #expect(throws: PorterError.self) { try await porter.pauseQueue(" ") }
        #expect(empty?.code == .invalidArgument(parameter: "queue"))
        #expect(empty?.sqlState == .invalidParameterValue)
        do {
            try await porter.pool.query("SELECT porter.resume_queue(NULL)")
            Issue.record("resume_queue(NULL) was accepted")
        } catch let error as PQError {
            #expect(error.sqlState == .nullValueNotAllowed && error.column == "queue")
        }
        // A name longer than any queue can have (max_queue_bytes, 128) is refused too: a 10 kB
        // one used to fail inside the primary key with an index-size error.
        let long = String(repeating: "é", count: 5000)
        let tooLong = await #expect(throws: PorterError.self) { try await porter.pauseQueue(long) }
        #expect(tooLong?.sqlState == SQLState("54000") && "\(tooLong!)".contains("over the limit of 128 bytes"), "\(String(describing: tooLong))")
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.paused_queues").single(Int.self) == 0)
        await porter.close()
    }
}
