import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// The dashboard in a real browser: headless Chromium loads `porter dashboard` against a real
/// worker and database. One chromedriver for the suite; a fresh window per test.
@Suite(.serialized) struct DashboardBrowserTests {
    static let driver = Task { try await ChromeDriver() }

    /// Opens `path` of the dashboard and waits until its first view is drawn.
    static func open(_ browser: BrowserSession, _ base: String, _ path: String) async throws {
        try await browser.go(base + "/" + path)
        do {
            try await browser.waitFor("the dashboard to draw", timeout: .seconds(30), "return document.body.dataset.ready === 'true';")
        } catch {
            let page = (try? await browser.run("return document.body.innerText;")) as? String
            Issue.record("the page shows: \(page ?? "nothing")")
            throw error
        }
    }

    /// Runs `body` with a fresh browser window, closed afterwards whatever happens.
    static func withBrowser(width: Int = 1400, height: Int = 900, _ body: (BrowserSession) async throws -> Void) async throws {
        let browser = try await driver.value.session(width: width, height: height)
        do {
            try await body(browser)
        } catch {
            await browser.close()
            throw error
        }
        await browser.close()
    }

    @Test func theQueuesPageShowsEachQueueWithItsDepthAndState() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let worker = RunningWorker(porter, fastConfiguration(), queues: ["default"])
        _ = try await porter.enqueueMany((0..<3).map { _ in EnqueueRequest(method: "sql:app.record", options: EnqueueOptions(queue: "mail")) })
        try await porter.pauseQueue("sms")
        _ = try await porter.enqueue(method: "sql:app.record", options: EnqueueOptions(queue: "sms"))
        try await porter.setLimit(QueueLimit(queue: "mail", maxRunning: 2))
        try await waitUntil("the worker to report itself") { try await porter.stats().workers == 1 }
        let dashboard = try PorterProcess(database: database)
        let base = try await dashboard.base()
        try await Self.withBrowser { browser in
            try await Self.open(browser, base, "#/queues")
            try await browser.waitFor("the mail queue to show 3 queued jobs",
                "const c = document.querySelector('tr[data-queue=\"mail\"] td[data-field=\"queued\"]'); return !!c && c.textContent === '3';")
            #expect(try await browser.text("tr[data-queue=\"sms\"] td[data-field=\"state\"]") == "paused")
            #expect(try await browser.text("tr[data-queue=\"default\"] td[data-field=\"state\"]") == "running")
            // The mail queue's limit, with what runs against it and what waits for it.
            #expect(try await browser.text("tr[data-limit=\"mail queue\"] td[data-field=\"running\"]") == "0")
            #expect(try await browser.text("tr[data-limit=\"mail queue\"] td[data-field=\"waiting\"]") == "0")
            #expect(try await browser.text("[data-field=\"workers\"]") == "1")
            #expect(try await browser.count("button[data-action=\"resume\"]") == 1)
            #expect(try await browser.count("button[data-action=\"pause\"]") == 2)
            // Pausing from the page pauses the queue in the database.
            try await browser.click("tr[data-queue=\"mail\"] button[data-action=\"pause\"]")
            try await waitUntil("the mail queue to be paused") { try await porter.stats()[queue: "mail"]?.paused == true }
            try await browser.waitFor("the page to show it paused",
                "const c = document.querySelector('tr[data-queue=\"mail\"] td[data-field=\"state\"]'); return !!c && c.textContent === 'paused';")
        }
        #expect(try await dashboard.stop() == 0, "\(dashboard.output)")
        try await worker.shutdown()
        await porter.close()
    }

    /// Not a check: draws docs/dashboard.png for the README when PORTER_DASHBOARD_SCREENSHOT
    /// names the file (`PORTER_DASHBOARD_SCREENSHOT=$PWD/docs/dashboard.png swift test --filter screenshot`).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["PORTER_DASHBOARD_SCREENSHOT"] != nil))
    func screenshotForTheReadme() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        try await createGates(porter)
        let worker = RunningWorker(porter, fastConfiguration {
            $0.queues["default"]?.backgroundWorkers = 4
            $0.queues["long"]?.backgroundWorkers = 2
        }, queues: ["default", "short", "long"])
        _ = try await porter.enqueueMany((0..<40).map { _ in EnqueueRequest(method: "sql:app.record") })
        _ = try await porter.enqueueMany((0..<3).map { _ in
            EnqueueRequest(method: "sql:app.fail", args: PQJSON(text: #"{"outlet": "SJ-0042"}"#), options: EnqueueOptions(queue: "short")) })
        for gate in ["stock", "reports"] {
            _ = try await porter.enqueue(method: "sql:app.stepped", args: PQJSON(text: "{\"gate\": \"\(gate)\"}"), options: EnqueueOptions(queue: "long"))
        }
        try await waitUntil("the failures") { try await count(porter, queue: "short", status: .failed) == 3 }
        try await porter.pauseQueue("mail")
        _ = try await porter.enqueueMany((0..<12).map { _ in EnqueueRequest(method: "app.send_mail", options: EnqueueOptions(queue: "mail")) })
        try await openGate("stock-1", porter)
        try await waitForHeartbeats(porter, 2)
        let dashboard = try PorterProcess(database: database)
        let base = try await dashboard.base()
        try await Self.withBrowser(width: 1400, height: 760) { browser in
            try await Self.open(browser, base, "#/queues")
            try await browser.waitFor("two bars", "return document.querySelectorAll('.bar').length === 2;")
            try await browser.screenshot().write(to: URL(fileURLWithPath: ProcessInfo.processInfo.environment["PORTER_DASHBOARD_SCREENSHOT"]!))
        }
        _ = try await dashboard.stop()
        for gate in ["stock-2", "reports-1", "reports-2"] { try await openGate(gate, porter) }
        try await worker.shutdown()
        await porter.close()
    }

    @Test func aRunningJobsProgressBarMovesWithoutAReload() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        try await createGates(porter)
        let worker = RunningWorker(porter, fastConfiguration())
        let id = try #require(try await porter.enqueue(method: "sql:app.stepped", args: PQJSON(text: #"{"gate": "bar"}"#)).id)
        let dashboard = try PorterProcess(database: database)
        let base = try await dashboard.base()
        try await Self.withBrowser { browser in
            try await Self.open(browser, base, "#/jobs/\(id)")
            let bar = ".bar[data-job=\"\(id)\"]"
            try await browser.waitFor("the bar at 10 %", "const b = document.querySelector(arguments[0]); return !!b && b.dataset.percent === '10';", [bar])
            let page = try #require(try await browser.run("return window.__porterPageId;") as? String)
            let width = try await browser.run("return document.querySelector(arguments[0] + ' .fill').getBoundingClientRect().width;", [bar]) as? Double
            // The job reports 60 % from inside its transaction; the page hears it over /api/events.
            try await openGate("bar-1", porter)
            try await browser.waitFor("the bar at 60 %", "const b = document.querySelector(arguments[0]); return !!b && b.dataset.percent === '60';", [bar])
            try await browser.waitFor("the fill to grow", "return document.querySelector(arguments[0] + ' .fill').getBoundingClientRect().width > arguments[1];", [bar, width ?? 0])
            #expect(try await browser.text(bar + " .label")?.contains("step 2 of 2") == true)
            // Moved by the event stream, not by the page's periodic reload of its data.
            #expect((try await browser.run("return window.__porterProgressEvents || 0;") as? Int ?? 0) > 0)
            // The same page: nothing reloaded it.
            #expect(try await browser.run("return window.__porterPageId;") as? String == page)
            try await openGate("bar-2", porter)
            try await waitForJob(porter, id, .finished)
            try await browser.waitFor("the page to show the job finished",
                "const b = document.querySelector('h2 .badge'); return !!b && b.textContent === 'finished';")
            #expect(try await browser.run("return window.__porterPageId;") as? String == page)
        }
        _ = try await dashboard.stop()
        try await worker.shutdown()
        await porter.close()
    }

    @Test func retryOnAFailedJobsPageRequeuesIt() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let id = try #require(try await porter.enqueue(method: "sql:app.fail", args: PQJSON(text: #"{"outlet": "B7"}"#), options: EnqueueOptions(queue: "mail")).id)
        let worker = RunningWorker(porter, fastConfiguration(), queues: ["mail"])
        try await waitForJob(porter, id, .failed)
        try await worker.shutdown()
        let dashboard = try PorterProcess(database: database)
        let base = try await dashboard.base()
        try await Self.withBrowser { browser in
            try await Self.open(browser, base, "#/jobs/\(id)")
            #expect(try await browser.text("[data-field=\"error\"]")?.contains("stock level unavailable for B7") == true)
            #expect(try await browser.count("button[data-action=\"cancel\"]") == 0)
            try await browser.click("button[data-action=\"retry\"]")
            let job = try await waitForJob(porter, id, .queued)
            #expect(job.attempts == 0 && job.endedAt == nil)
            try await browser.waitFor("the page to show it queued",
                "const b = document.querySelector('h2 .badge'); return !!b && b.textContent === 'queued';")
            #expect(try await browser.count("button[data-action=\"retry\"]") == 0)
            #expect(try await browser.count("button[data-action=\"cancel\"]") == 1)
        }
        _ = try await dashboard.stop()
        await porter.close()
    }

    @Test func readOnlyModeShowsNoActionsAndRunsWithTheReaderRole() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let id = try #require(try await porter.enqueue(method: "sql:app.fail", args: PQJSON(text: #"{"outlet": "C1"}"#)).id)
        let worker = RunningWorker(porter, fastConfiguration(), queues: ["default"])
        try await waitForJob(porter, id, .failed)
        // The reader role of migration 0013: statuses, counts and timings; no args, no writes.
        let role = "porter_reader_\(database.name)"
        try await porter.pool.query("CREATE ROLE \(identifier: role)")
        try await porter.pool.query("SELECT porter.grant_reader(\(role))")
        let dashboard = try PorterProcess(
            database: database, connectionString: database.connectionString + " options='-c role=\(role)'", arguments: ["--read-only"])
        let base = try await dashboard.base()
        #expect(dashboard.output.contains("(read-only)"))
        try await Self.withBrowser { browser in
            try await Self.open(browser, base, "#/queues")
            try await browser.waitFor("the default queue's row", "return !!document.querySelector('tr[data-queue=\"default\"]');")
            #expect(try await browser.text("#mode") == "read-only")
            #expect(try await browser.count("button") == 0)
            try await Self.open(browser, base, "#/jobs/\(id)")
            try await browser.waitFor("the job's page", "const b = document.querySelector('h2 .badge'); return !!b && b.textContent === 'failed';")
            #expect(try await browser.count("button") == 0)
            // The reader may not read args: the page says so instead of failing.
            #expect(try await browser.text("[data-field=\"hidden\"]")?.contains("porter.job_states") == true)
            try await Self.open(browser, base, "#/jobs?status=failed")
            try await browser.waitFor("the failed job listed", "return !!document.querySelector('tr[data-job=\"\(id)\"]');")
            #expect(try await browser.count("button[data-action]") == 0)
            try await Self.open(browser, base, "#/workers")
            try await browser.waitFor("the worker listed", "return document.querySelectorAll('tr[data-worker]').length === 1;")
            // The actions themselves are refused, not only hidden.
            let refused = try await browser.run("""
                return fetch('/api/jobs/\(id)/retry', {method: 'POST', headers: {'X-Porter-Dashboard': '1'}}).then(r => r.status);
                """) as? Int
            #expect(refused == 403)
            #expect(try await porter.job(id: id)?.status == .failed)
        }
        _ = try await dashboard.stop()
        try await worker.shutdown()
        try await porter.pool.query("SELECT porter.revoke_grants(\(role))")
        try await porter.pool.query("DROP OWNED BY \(identifier: role)")
        try await porter.pool.query("DROP ROLE \(identifier: role)")
        await porter.close()
    }
}
