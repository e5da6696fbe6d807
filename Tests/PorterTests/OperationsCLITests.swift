import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// `porter stats`, `workers`, `pause`, `resume` and the bulk forms of `retry`, `cancel` and
/// `delete`, as an operator types them.
// One test at a time: each runs workers or servers, and every suite shares one PostgreSQL's
// connections (max_connections 500).
@Suite(.serialized) struct OperationsCLITests {
    @Test func bulkCommandsPrintHowManyJobsTheyChanged() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let url = ["--database-url", database.connectionString]
        try await BulkActionTests.failed(porter, 53, queue: "mail")
        try await BulkActionTests.failed(porter, 4, queue: "mail", method: "other", ago: "10 days")
        let retried = try await runPorter(["retry", "--failed", "--queue", "mail", "--method", "m", "--since", "1h"] + url)
        #expect(retried.status == 0 && retried.output == "retried 53 failed jobs\n", "\(retried.output)")
        let canceled = try await runPorter(["cancel", "--queued", "--queue", "mail"] + url)
        #expect(canceled.status == 0 && canceled.output == "canceled 53 queued jobs\n", "\(canceled.output)")
        let deleted = try await runPorter(["delete", "--failed", "--canceled", "--older-than", "7d"] + url)
        #expect(deleted.status == 0 && deleted.output == "deleted 4 failed jobs\ndeleted 0 canceled jobs\n", "\(deleted.output)")
        #expect(try await count(porter, queue: "mail", status: .canceled) == 53)
        let mixed = try await runPorter(["retry", "7", "--failed"] + url)
        #expect(mixed.status != 0 && mixed.output.contains("not both"))
        let bad = try await runPorter(["delete", "--failed", "--older-than", "a week"] + url)
        #expect(bad.status != 0 && bad.output.contains("7d"))
        await porter.close()
    }

    @Test func statsWatchPrintsAFreshObjectEveryInterval() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        _ = try await porter.enqueue(method: "m", options: EnqueueOptions(queue: "mail"))
        let watch = try PorterProcess.porter(["stats", "--watch", "--json", "--interval", "1", "--database-url", database.connectionString])
        var lines: [String] = []
        try await waitUntil("two refreshes") {
            lines = watch.output.split(separator: "\n").map(String.init)
            return lines.count >= 2
        }
        _ = try await porter.enqueue(method: "m", options: EnqueueOptions(queue: "mail"))
        try await waitUntil("a refresh that counts the second job") {
            watch.output.split(separator: "\n").contains { $0.contains("\"queued\": 2") }
        }
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["queues"] is [[String: Any]])
        }
        _ = try await watch.stop()
        await porter.close()
    }

    @Test func pauseAndResumeAreHonouredByARunningWorkerProcess() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let url = ["--database-url", database.connectionString]
        let paused = try await runPorter(["pause", "default"] + url)
        #expect(paused.status == 0 && paused.output.contains("queue default is paused"), "\(paused.output)")
        let worker = try WorkerProcess(database: database, config: WorkerProcessTests.config)
        let id = try #require(try await porter.enqueue(method: "sql:app.record").id)
        try await waitForHeartbeats(porter, 3)
        #expect(try await porter.job(id: id)?.status == .queued)
        let resumed = try await runPorter(["resume", "default"] + url)
        #expect(resumed.status == 0 && resumed.output.contains("running again"))
        try await waitForJob(porter, id, .finished, timeout: .seconds(5))
        worker.kill(SIGTERM)
        #expect(try await worker.waitForExit() == 0, "\(worker.output)")
        await porter.close()
    }

    @Test func workersListsEachLiveWorkerWithItsQueuesMethodsAndSlots() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let worker = try WorkerProcess(database: database, config: WorkerProcessTests.config, arguments: ["--queue", "default,short"])
        try await waitUntil("the worker to register") { try await porter.workers().count == 1 }
        let listed = try await runPorter(["workers", "--json", "--database-url", database.connectionString])
        #expect(listed.status == 0, "\(listed.output)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [String: Any])
        #expect(object["pid"] as? Int == Int(worker.pid))
        #expect(object["host"] as? String == ProcessInfo.processInfo.hostName)
        #expect(object["queues"] as? [String] == ["default", "short"])
        #expect(object["methods"] as? [String] == ["porter.noop", "sql:app.*"])
        #expect(object["slots"] as? Int == 5 && object["slots_busy"] as? Int == 0 && object["alive"] as? Bool == true)
        #expect(object["heartbeat_at"] is String)
        let table = try await runPorter(["workers", "--database-url", database.connectionString])
        #expect(table.output.contains("default,short") && table.output.contains("alive") && table.output.contains("0/5"), "\(table.output)")
        worker.kill(SIGTERM)
        #expect(try await worker.waitForExit() == 0)
        await porter.close()
    }

    @Test func workersShowTheMethodsEachWorkerRegistered() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        // A worker's row as written by hand, so no heartbeat rewrites it while the test reads.
        try await porter.pool.query("""
            INSERT INTO porter.workers (id, host, pid, queues, methods)
            VALUES ('w1', 'h', 1, ARRAY['default'], ARRAY['app.tasks.sync', 'sql:app.*'])
            """)
        #expect(try await porter.workers().first?.methods == ["app.tasks.sync", "sql:app.*"])
        // A worker of an older build registered none.
        try await porter.pool.query("UPDATE porter.workers SET methods = NULL")
        #expect(try await porter.workers().first?.methods == [])
        await porter.close()
    }
}
