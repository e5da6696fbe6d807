import Foundation
import Logging
import Porter
import PorterPostgres
import PorterTesting
import ServiceLifecycle
import Testing

/// Settings that make a worker react in tenths of seconds, for tests.
func fastConfiguration(_ change: (inout WorkerConfiguration) -> Void = { _ in }) -> WorkerConfiguration {
    var configuration = WorkerConfiguration(
        // Heartbeats 15 apart from a rescue: the whole suite shares 2 cores, and a heartbeat
        // a second late must not get a live in-process worker taken for dead.
        pollInterval: .milliseconds(100), heartbeatInterval: .milliseconds(200), rescueAfter: .seconds(3),
        maintenanceInterval: .milliseconds(200), shutdownGrace: .seconds(5), cancelGrace: .milliseconds(300),
        retryPolicy: RetryPolicy(base: .milliseconds(50), maximum: .seconds(1), jitter: 0))
    configuration.sqlSchemas = ["app"]
    change(&configuration)
    return configuration
}

/// A worker running in this process inside a ServiceGroup, as an app would run it.
struct RunningWorker {
    let group: ServiceGroup
    let task: Task<Void, any Error>

    init(_ porter: PorterClient, _ configuration: WorkerConfiguration, queues: [String]? = nil) {
        var logger = Logger(label: "porter.test.worker")
        logger.logLevel = .warning
        let worker = Worker(client: porter, configuration: configuration, queues: queues, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: worker)], logger: logger))
        self.group = group
        self.task = Task { try await group.run() }
    }

    /// Graceful shutdown, as on SIGTERM; returns when the worker has exited.
    func shutdown() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

/// Waits until job `id` has `status`, and returns its row.
@discardableResult
func waitForJob(_ porter: PorterClient, _ id: Int64, _ status: JobStatus, timeout: Duration = .seconds(30)) async throws -> JobRecord {
    var last: JobRecord?
    do {
        try await waitUntil(timeout: timeout, "job \(id) to be \(status)") {
            last = try await porter.job(id: id)
            return last?.status == status
        }
    } catch {
        Issue.record("job \(id) is \(last?.status.rawValue ?? "missing"), error: \(last?.error ?? "none")")
        throw error
    }
    return last!
}

/// A schema `app` with an effects table that sql: jobs write, and functions to call.
func createSQLJobs(_ porter: PorterClient) async throws {
    try await porter.pool.query("CREATE SCHEMA app")
    try await porter.pool.query("CREATE TABLE app.effects (job bigint NOT NULL, note text)")
    try await porter.pool.query("CREATE SCHEMA private")
    try await porter.pool.query("""
        CREATE FUNCTION private.touch(args jsonb) RETURNS void LANGUAGE sql AS $$ SELECT $$
        """)
    // Records its job id and returns a result.
    try await porter.pool.query("""
        CREATE FUNCTION app.record(args jsonb) RETURNS jsonb LANGUAGE sql AS $$
            INSERT INTO app.effects (job, note) VALUES (porter.current_job_id(), args->>'note');
            SELECT jsonb_build_object('job', porter.current_job_id(), 'note', args->>'note');
        $$
        """)
    // Writes an effect, then sleeps: a kill or timeout in the sleep must undo the effect.
    try await porter.pool.query("""
        CREATE FUNCTION app.slow(args jsonb) RETURNS int LANGUAGE sql AS $$
            INSERT INTO app.effects (job, note) VALUES (porter.current_job_id(), 'partial');
            SELECT pg_sleep((args->>'sleep')::float8);
            SELECT 1;
        $$
        """)
    // Publishes progress (50 %) and a "counted" event with {"total": 7}.
    try await porter.pool.query("""
        CREATE FUNCTION app.counted(args jsonb) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM porter.publish_progress(50, 'Counting', 'half way');
            PERFORM porter.publish_realtime('counted', jsonb_build_object('total', 7));
        END $$
        """)
    // Writes an effect, then raises.
    try await porter.pool.query("""
        CREATE FUNCTION app.fail(args jsonb) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO app.effects (job, note) VALUES (porter.current_job_id(), 'before raise');
            RAISE EXCEPTION 'stock level unavailable for %', args->>'outlet';
        END $$
        """)
}

func effects(_ porter: PorterClient, job: Int64) async throws -> Int {
    try await porter.pool.query("SELECT count(*) FROM app.effects WHERE job = \(job)").single(Int.self)
}
