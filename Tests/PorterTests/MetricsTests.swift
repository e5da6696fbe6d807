import Foundation
import Logging
import Metrics
import Porter
import PorterPostgres
import PorterTesting
import Prometheus
import Testing

/// The Prometheus registry this test process's swift-metrics records into, bootstrapped once:
/// an app's own backend, as far as Porter can tell.
enum TestMetrics {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// The value of one sample line, `name{labels} value`, if present.
    static func value(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }
}

/// A GET on loopback; the status and body.
func httpGet(_ url: String, headers: [String: String] = [:]) async throws -> (status: Int, body: String) {
    let answer = try await LoopbackHTTP.get(url, headers: headers)
    return (answer.status, answer.text)
}

// One test at a time: each runs workers or servers, and every suite shares one PostgreSQL's
// connections (max_connections 500).
@Suite(.serialized) struct MetricsTests {
    @Test func theWorkersCountersTimersAndGaugesReachTheAppsMetricsBackend() async throws {
        let registry = TestMetrics.registry
        let database = try await TestDatabase.create()
        var registry2 = JobRegistry()
        struct Boom: Error {}
        registry2.register(method: "metrics.ok") { _, _ in nil }
        registry2.register(method: "metrics.flaky") { _, context in
            if context.attempt == 1 { throw Boom() }
            return nil
        }
        registry2.register(method: "metrics.bad") { _, _ in throw Boom() }
        let porter = database.makeClient(registry: registry2)
        // A queue of its own: the registry is the whole test process's.
        let queue = "metrics-\(database.name)"
        let worker = RunningWorker(
            porter, fastConfiguration { $0.queues[queue] = QueueConfiguration(timeout: 30, backgroundWorkers: 3, maxAttempts: 2) },
            queues: [queue])
        let options = EnqueueOptions(queue: queue)
        let ids = try await porter.enqueueMany(
            (0..<5).map { _ in EnqueueRequest(method: "metrics.ok", options: options) }
                + [EnqueueRequest(method: "metrics.flaky", options: options), EnqueueRequest(method: "metrics.bad", options: options)]
        ).compactMap(\.id)
        for id in ids.prefix(6) { try await waitForJob(porter, id, .finished) }
        try await waitForJob(porter, ids[6], .failed)
        let labels = { (method: String) in "{queue=\"\(queue)\",method=\"\(method)\"}" }
        var text = ""
        try await waitUntil("maintenance to read the queue's depth") {
            text = registry.emitToString()
            return TestMetrics.value(text, "porter_queue_depth{queue=\"\(queue)\"}") == 0
        }
        #expect(TestMetrics.value(text, "porter_jobs_enqueued_total" + labels("metrics.ok")) == 5)
        #expect(TestMetrics.value(text, "porter_jobs_started_total" + labels("metrics.ok")) == 5)
        #expect(TestMetrics.value(text, "porter_jobs_finished_total" + labels("metrics.ok")) == 5)
        #expect(TestMetrics.value(text, "porter_jobs_started_total" + labels("metrics.flaky")) == 2)
        #expect(TestMetrics.value(text, "porter_jobs_retried_total" + labels("metrics.flaky")) == 1)
        #expect(TestMetrics.value(text, "porter_jobs_finished_total" + labels("metrics.flaky")) == 1)
        #expect(TestMetrics.value(text, "porter_jobs_retried_total" + labels("metrics.bad")) == 1)
        #expect(TestMetrics.value(text, "porter_jobs_failed_total" + labels("metrics.bad")) == 1)
        #expect(TestMetrics.value(text, "porter_job_run_seconds_count" + labels("metrics.ok")) == 5)
        #expect(TestMetrics.value(text, "porter_job_wait_seconds_count{queue=\"\(queue)\"}") == 9)
        #expect(TestMetrics.value(text, "porter_worker_slots{queue=\"\(queue)\"}") == 3)
        #expect(TestMetrics.value(text, "porter_worker_slots_busy{queue=\"\(queue)\"}") == 0)
        #expect(TestMetrics.value(text, "porter_queue_lag_seconds{queue=\"\(queue)\"}") == 0)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func queueGaugesShowAPausedQueuesDepthAndLag() async throws {
        let registry = TestMetrics.registry
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let queue = "gauges-\(database.name)"
        try await porter.pauseQueue(queue)
        _ = try await porter.enqueueMany((0..<4).map { _ in EnqueueRequest(method: "m", options: EnqueueOptions(queue: queue)) })
        try await porter.pool.query("UPDATE porter.jobs SET run_at = now() - interval '1 minute'")
        let worker = RunningWorker(porter, fastConfiguration(), queues: [queue])
        // Maintenance reads the gauges from its second pass on; a loaded machine delays both.
        try await waitUntil(timeout: .seconds(30), "the depth gauge to show the 4 paused jobs") {
            TestMetrics.value(registry.emitToString(), "porter_queue_depth{queue=\"\(queue)\"}") == 4
        }
        let lag = try #require(TestMetrics.value(registry.emitToString(), "porter_queue_lag_seconds{queue=\"\(queue)\"}"))
        #expect(lag >= 60 && lag < 120)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func limitGaugeShowsJobsHeldBackByAFullLimit() async throws {
        let registry = TestMetrics.registry
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let queue = "limits-\(database.name)"
        // One start an hour, and that start made already: every job waits for the limit.
        try await porter.setLimit(QueueLimit(queue: queue, maxStarts: 1, perSeconds: 3600))
        try await porter.pool.query("INSERT INTO porter.limit_starts (queue, started_at) VALUES (\(queue), now())")
        _ = try await porter.enqueueMany((0..<3).map { _ in EnqueueRequest(method: "m", options: EnqueueOptions(queue: queue)) })
        let worker = RunningWorker(porter, fastConfiguration(), queues: [queue])
        try await waitUntil(timeout: .seconds(30), "the limit gauge to show the 3 held-back jobs") {
            TestMetrics.value(registry.emitToString(), "porter_limit_waiting_jobs{queue=\"\(queue)\",scope=\"queue\",limit_key=\"\"}") == 3
        }
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE status = 'queued'").single(Int.self) == 3)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func rescuesAreCountedPerQueue() async throws {
        let registry = TestMetrics.registry
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let queue = "rescue-\(database.name)"
        try await porter.pool.query("""
            INSERT INTO porter.jobs (method, queue, status, attempts, started_at, worker_id) VALUES
                ('m', \(queue), 'started', 1, now(), 'gone'), ('m', \(queue), 'started', 1, now(), 'gone')
            """)
        let maintenance = Maintenance(pool: porter.pool, configuration: fastConfiguration(), logger: Logger(label: "test"))
        #expect(try await maintenance.runOnce().requeued.count == 2)
        #expect(TestMetrics.value(registry.emitToString(), "porter_jobs_rescued_total{queue=\"\(queue)\"}") == 2)
        await porter.close()
    }

    @Test func workerMetricsPortServesPrometheusAndHealthChecks() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await createSQLJobs(porter)
        let worker = try WorkerProcess(
            database: database, config: WorkerProcessTests.config, arguments: ["--metrics-port", "0"])
        let base = try await worker.metricsURL()
        _ = try await porter.enqueueMany((0..<3).map { _ in EnqueueRequest(method: "sql:app.record") })
        _ = try await porter.enqueue(method: "sql:app.fail", args: PQJSON(text: #"{"outlet": "A1"}"#))
        try await waitUntil("4 jobs to end") {
            try await porter.pool.query("SELECT count(*) FROM porter.jobs WHERE status IN ('finished', 'failed')").single(Int.self) == 4
        }
        var metrics = (status: 0, body: "")
        try await waitUntil("/metrics to count the 3 finished jobs and the failure") {
            metrics = try await httpGet(base + "/metrics")
            return TestMetrics.value(metrics.body, "porter_jobs_finished_total{queue=\"default\",method=\"sql:app.record\"}") == 3
                && TestMetrics.value(metrics.body, "porter_jobs_failed_total{queue=\"default\",method=\"sql:app.fail\"}") == 1
        }
        #expect(metrics.status == 200)
        for name in [
            "porter_jobs_started_total", "porter_jobs_retried_total", "porter_jobs_rescued_total", "porter_job_wait_seconds_bucket",
            "porter_job_run_seconds_bucket", "porter_queue_depth", "porter_queue_lag_seconds", "porter_worker_slots_busy",
            "porter_worker_slots", "porter_jobs_enqueued_total",
        ] {
            #expect(metrics.body.contains(name), "\(name) missing")
        }
        #expect(TestMetrics.value(metrics.body, "porter_worker_slots{queue=\"default\"}") == 4)
        #expect(try await httpGet(base + "/health/live").status == 200)
        let ready = try await httpGet(base + "/health/ready")
        #expect(ready.status == 200 && ready.body == "ready\n")
        // A schema older than the worker's build: not ready, and it says what to do.
        try await porter.pool.query("DELETE FROM porter.schema_migrations WHERE version = (SELECT max(version) FROM porter.schema_migrations)")
        let behind = try await httpGet(base + "/health/ready")
        #expect(behind.status == 503 && behind.body.contains("porter migrate"), "\(behind.body)")
        #expect(try await httpGet(base + "/health/live").status == 200)
        worker.kill(SIGTERM)
        #expect(try await worker.waitForExit() == 0, "\(worker.output)")
        await porter.close()
    }
}

extension WorkerProcess {
    /// The base URL of `--metrics-port`, from the line the worker logs once it listens.
    func metricsURL() async throws -> String {
        var url: String?
        try await waitUntil(timeout: .seconds(20), "the worker to serve /metrics") {
            url = Self.url(after: "serving /metrics, /health/live and /health/ready on ", in: self.output)
            return url != nil
        }
        return url!
    }

    /// The http://... that follows `marker` in `text`.
    static func url(after marker: String, in text: String) -> String? {
        guard let range = text.range(of: marker) else { return nil }
        let rest = text[range.upperBound...]
        let url = rest.prefix { !$0.isWhitespace }
        return url.isEmpty ? nil : String(url)
    }
}
