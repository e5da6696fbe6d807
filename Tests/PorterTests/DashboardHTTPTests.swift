import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// The dashboard's server without a browser: who may use it, and its pages of data.
// One test at a time: each runs workers or servers, and every suite shares one PostgreSQL's
// connections (max_connections 500).
@Suite(.serialized) struct DashboardHTTPTests {
    @Test func aDashboardWithATokenRefusesRequestsWithoutItAndKeepsItInACookie() async throws {
        let database = try await TestDatabase.create()
        let dashboard = try PorterProcess(database: database, arguments: ["--token", "s3cret-token"])
        let url = try await dashboard.url()
        #expect(url.hasSuffix("/?token=s3cret-token"))
        let base = try await dashboard.base()
        let refused = try await LoopbackHTTP.get(base + "/api/config")
        #expect(refused.status == 401 && refused.text.contains("needs its token"))
        #expect(try await LoopbackHTTP.get(base + "/api/config", headers: ["Authorization": "Bearer wrong"]).status == 401)
        #expect(try await LoopbackHTTP.get(base + "/api/config", headers: ["Authorization": "Bearer s3cret-token"]).status == 200)
        // The printed URL sets the cookie and takes the token out of the address.
        let opened = try await LoopbackHTTP.get(url)
        #expect(opened.status == 303 && opened.headers["location"] == "/")
        let cookie = try #require(opened.headers["set-cookie"])
        #expect(cookie.hasPrefix("porter_token=s3cret-token;") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
        let page = try await LoopbackHTTP.get(base + "/", headers: ["Cookie": "porter_token=s3cret-token"])
        #expect(page.status == 200 && page.text.contains("<script src=\"/app.js\">"))
        #expect(try await dashboard.stop() == 0)
    }

    @Test func withoutATokenItListensOnLoopbackOnlyAndRefusesOtherHostNames() async throws {
        let database = try await TestDatabase.create()
        let open = try await runPorter(["dashboard", "--host", "0.0.0.0", "--database-url", database.connectionString])
        #expect(open.status != 0 && open.output.contains("--token"), "\(open.output)")
        // A name that merely starts like a loopback address is not one.
        let lookalike = try await runPorter(["dashboard", "--host", "127.example.com", "--database-url", database.connectionString])
        #expect(lookalike.status == 64 && lookalike.output.contains("would let other machines in"), "\(lookalike.output)")
        // Other machines need a token too long to guess.
        let short = try await runPorter(["dashboard", "--host", "0.0.0.0", "--token", "abc", "--database-url", database.connectionString])
        #expect(short.status == 64 && short.output.contains("at least 16 characters"), "\(short.output)")
        let dashboard = try PorterProcess(database: database)
        let base = try await dashboard.base()
        #expect(base.hasPrefix("http://127.0.0.1:"))
        #expect(try await LoopbackHTTP.get(base + "/api/config").status == 200)
        // A page elsewhere that points a name of its own at 127.0.0.1 gets nothing.
        let rebound = try await LoopbackHTTP.get(base + "/api/stats", headers: ["Host": "evil.example"])
        #expect(rebound.status == 403)
        // An action without the dashboard's header (a cross-site form) is refused.
        let id = try #require(try await database.makeClient().enqueue(method: "m").id)
        #expect(try await LoopbackHTTP.send("POST", base + "/api/jobs/\(id)/cancel").status == 403)
        let canceled = try await LoopbackHTTP.send("POST", base + "/api/jobs/\(id)/cancel", headers: ["X-Porter-Dashboard": "1"])
        #expect(canceled.status == 200 && canceled.text.contains("canceled"), "\(canceled.text)")
        #expect(try await dashboard.stop() == 0)
    }

    @Test func jobPagesFollowEachOtherByIDAndFilter() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let requests: [EnqueueRequest] = (0..<120).map { (n: Int) -> EnqueueRequest in
            let method: String = n % 2 == 0 ? "even" : "odd"
            let queue: String = n % 3 == 0 ? "mail" : "default"
            return EnqueueRequest(method: method, options: EnqueueOptions(queue: queue))
        }
        _ = try await porter.enqueueMany(requests)
        let dashboard = try PorterProcess(database: database)
        let base = try await dashboard.base()
        func page(_ query: String) async throws -> (ids: [Int64], next: Int64?) {
            let answer = try await LoopbackHTTP.get(base + "/api/jobs?" + query)
            let object = try #require(try JSONSerialization.jsonObject(with: answer.body) as? [String: Any], "\(answer.text)")
            let jobs = try #require(object["jobs"] as? [[String: Any]])
            return (jobs.map { ($0["id"] as! NSNumber).int64Value }, (object["next_before"] as? NSNumber)?.int64Value)
        }
        var seen: [Int64] = []
        var query = "method=even&limit=25"
        while true {
            let next = try await page(query)
            seen += next.ids
            guard let before = next.next else { break }
            query = "method=even&limit=25&before=\(before)"
        }
        let expected = try await porter.pool.query("SELECT id FROM porter.jobs WHERE method = 'even' ORDER BY id DESC").map { try $0.decode(Int64.self, at: 0) }
        #expect(seen == expected)
        let mail = try await page("queue=mail&method=odd&limit=200")
        #expect(mail.ids.count == 20 && mail.next == nil)
        let keyed = try #require(try await porter.enqueue(method: "keyed", options: EnqueueOptions(jobID: "report 7/12")).id)
        #expect(try await page("job_id=report%207%2F12").ids == [keyed])
        #expect(try await LoopbackHTTP.get(base + "/api/jobs?status=nonsense").status == 400)
        #expect(try await dashboard.stop() == 0)
        await porter.close()
    }

    @Test func aJobsPageNamesItsParentsDependantsAndEveryAttempt() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let parent = try #require(try await porter.enqueue(method: "parent").id)
        let child = try #require(try await porter.enqueue(method: "child", options: EnqueueOptions(dependsOn: [parent])).id)
        try await porter.pool.query("""
            UPDATE porter.jobs SET errors = '[{"attempt": 1, "error": "boom", "at": "2026-12-01T10:00:00Z", "worker": "host:1:2"}]'
            WHERE id = \(parent)
            """)
        let dashboard = try PorterProcess(database: database)
        let base = try await dashboard.base()
        let answer = try await LoopbackHTTP.get(base + "/api/jobs/\(parent)")
        let job = try #require(try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])
        let dependants = try #require(job["dependants"] as? [[String: Any]])
        #expect(dependants.map { ($0["id"] as! NSNumber).int64Value } == [child])
        let errors = try #require(job["errors"] as? [[String: Any]])
        #expect(errors.first?["worker"] as? String == "host:1:2" && errors.first?["error"] as? String == "boom")
        let childPage = try JSONSerialization.jsonObject(with: try await LoopbackHTTP.get(base + "/api/jobs/\(child)").body) as? [String: Any]
        let parents = try #require(childPage?["parents"] as? [[String: Any]])
        #expect(parents.first?["method"] as? String == "parent" && parents.first?["status"] as? String == "queued")
        #expect(try await LoopbackHTTP.get(base + "/api/jobs/999999").status == 404)
        #expect(try await dashboard.stop() == 0)
        await porter.close()
    }

    @Test func loadingPagesOpensNoNewConnections() async throws {
        let database = try await TestDatabase.create()
        let admin = try await database.connect()
        let dashboard = try PorterProcess(database: database)
        let base = try await dashboard.base()
        func connections() async throws -> Int {
            try await admin.query(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).single(Int.self)
        }
        for path in ["/api/progress", "/api/stats", "/api/jobs", "/api/workers"] { _ = try await LoopbackHTTP.get(base + path) }
        let before = try await connections()
        for _ in 0..<10 {
            for path in ["/api/progress", "/api/stats", "/api/jobs", "/api/workers"] {
                #expect(try await LoopbackHTTP.get(base + path).status == 200)
            }
        }
        #expect(try await connections() == before)
        #expect(try await dashboard.stop() == 0)
        await admin.close()
    }

    @Test func theSchedulePageListsEachEventWithItsNextFireTime() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.pool.query("""
            INSERT INTO porter.schedule (event, method, queue, last_fire_at, next_fire_at) VALUES
                ('hourly', 'app.sync', 'default', '2026-12-01T09:00:00Z', '2026-12-01T10:00:00Z'),
                ('cron:15 18 * * *', 'app.report', 'long', NULL, '2026-12-01T18:15:00Z')
            """)
        let dashboard = try PorterProcess(database: database)
        let base = try await dashboard.base()
        let answer = try await LoopbackHTTP.get(base + "/api/schedule")
        let events = try #require(try JSONSerialization.jsonObject(with: answer.body) as? [[String: Any]])
        #expect(events.map { $0["method"] as? String } == ["app.sync", "app.report"])
        #expect(events[0]["next_fire_at"] as? String == "2026-12-01T10:00:00.000Z")
        #expect(events[0]["last_fire_at"] as? String == "2026-12-01T09:00:00.000Z" && events[1]["last_fire_at"] == nil)
        #expect(try await dashboard.stop() == 0)
        await porter.close()
    }

    @Test func bulkRetryFromTheDashboardRetriesAQueuesFailures() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await BulkActionTests.failed(porter, 5, queue: "mail")
        try await BulkActionTests.failed(porter, 2, queue: "sms")
        let dashboard = try PorterProcess(database: database)
        let base = try await dashboard.base()
        let answer = try await LoopbackHTTP.send("POST", base + "/api/retry-failed?queue=mail", headers: ["X-Porter-Dashboard": "1"])
        #expect(answer.status == 200 && answer.text.contains("retried 5 failed jobs"), "\(answer.text)")
        #expect(try await count(porter, queue: "mail", status: .queued) == 5)
        #expect(try await count(porter, queue: "sms", status: .failed) == 2)
        #expect(try await dashboard.stop() == 0)
        await porter.close()
    }
}
