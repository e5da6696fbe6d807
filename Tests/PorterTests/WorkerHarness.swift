import Foundation
import Logging
import Porter
import PorterPostgres
import PorterTesting
import ServiceLifecycle
import Testing

/// PorterTesting's settings for tests (`WorkerConfiguration.forTests`), with schema `app`
/// allowed for sql: jobs, as most of these tests create their functions there.
func fastConfiguration(_ change: (inout WorkerConfiguration) -> Void = { _ in }) -> WorkerConfiguration {
    WorkerConfiguration.forTests { configuration in
        configuration.sqlSchemas = ["app"]
        change(&configuration)
    }
}

/// PorterTesting's worker harness, as Porter's own tests have always called it.
typealias RunningWorker = TestWorker

extension TestWorker {
    /// The positional form these tests use.
    init(_ porter: PorterClient, _ configuration: WorkerConfiguration, queues: [String]? = nil) {
        self.init(porter, configuration: configuration, queues: queues)
    }
}

/// Waits until job `id` has `status`, and returns its row (PorterTesting's `waitForJob`,
/// recording the failure as an issue of the test).
@discardableResult
func waitForJob(_ porter: PorterClient, _ id: Int64, _ status: JobStatus, timeout: Duration = .seconds(30)) async throws -> JobRecord {
    do {
        return try await porter.waitForJob(id, toBe: status, timeout: timeout)
    } catch let failure as ExpectationFailed {
        Issue.record("\(failure)")
        throw failure
    }
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
