import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// sql: jobs that wait for the test: `app.wait_gate({"gate": name})` returns once the test
/// opens the gate, and `app.stepped({"gate": name})` publishes 10 %, waits for `name-1`,
/// publishes 60 %, waits for `name-2`. Needs `createSQLJobs` first (the app schema).
func createGates(_ porter: PorterClient) async throws {
    try await porter.pool.query("CREATE TABLE app.gates (name text PRIMARY KEY)")
    try await porter.pool.query("""
        CREATE FUNCTION app.wait_gate(args jsonb) RETURNS text LANGUAGE plpgsql AS $$
        BEGIN
            LOOP
                EXIT WHEN EXISTS (SELECT 1 FROM app.gates WHERE name = args->>'gate');
                PERFORM pg_sleep(0.02);
            END LOOP;
            RETURN args->>'gate';
        END $$
        """)
    try await porter.pool.query("""
        CREATE FUNCTION app.stepped(args jsonb) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM porter.publish_progress(10, 'Syncing', 'step 1 of 2');
            PERFORM app.wait_gate(jsonb_build_object('gate', (args->>'gate') || '-1'));
            PERFORM porter.publish_progress(60, 'Syncing', 'step 2 of 2');
            PERFORM app.wait_gate(jsonb_build_object('gate', (args->>'gate') || '-2'));
        END $$
        """)
}

/// Lets every job waiting on `gate` go on.
func openGate(_ gate: String, _ porter: PorterClient) async throws {
    try await porter.pool.query("INSERT INTO app.gates (name) VALUES (\(gate)) ON CONFLICT DO NOTHING")
}

/// The number of porter.jobs rows of `queue` with `status`.
func count(_ porter: PorterClient, queue: String, status: JobStatus) async throws -> Int {
    try await porter.pool.query(
        "SELECT count(*) FROM porter.jobs WHERE queue = \(queue) AND status = \(status.rawValue)").single(Int.self)
}

/// Waits until the worker `id` (or any worker) has sent `beats` more heartbeats: time passing
/// as the database sees it, without sleeping a fixed time.
func waitForHeartbeats(_ porter: PorterClient, _ beats: Int = 2) async throws {
    var seen: Date? = nil
    var left = beats
    try await waitUntil(timeout: .seconds(20), "\(beats) heartbeats") {
        guard let latest = try await porter.pool.query("SELECT max(heartbeat_at) FROM porter.workers").singleOptional(Date.self)
        else { return false }
        if let last = seen, latest > last { left -= 1 }
        if seen == nil || latest > seen! { seen = latest }
        return left <= 0
    }
}
