import Foundation
import PorterCLI
import PorterPostgres

/// The least a durable SKIP LOCKED queue must do, timed for `porter bench burndown` to compare
/// with (issue 13's reference): a narrow table with no triggers and one partial index, four
/// connections, each claiming 100 jobs per statement and completing them in the next, every
/// statement its own durable commit. No events, no dependants, no guards: Porter pays for
/// those, this loop does not.
enum RawQueueLoop {
    /// What a run of the raw loop gave: jobs per second, and the machine's CPU per job while
    /// the loop ran (PostgreSQL's and the loop's together; the loop's own is about 1 µs).
    struct Figures {
        var jobsPerSecond: Double
        var machineCPUPerJob: Duration
    }

    /// Fills the table with `jobs` rows, works them off, and returns its figures. The table
    /// lives in schema porter_bench, created and dropped here.
    static func measure(_ configuration: PQConfiguration, jobs: Int) async throws -> Figures {
        let setup = try await PQConnection.connect(configuration)
        do {
            let figures = try await measure(configuration, jobs: jobs, setup: setup)
            await setup.close()
            return figures
        } catch {
            await setup.close()
            throw error
        }
    }

    private static func measure(_ configuration: PQConfiguration, jobs: Int, setup: PQConnection) async throws -> Figures {
        try await setup.query(RawQueueSQL.dropSchema)
        try await setup.query(RawQueueSQL.createSchema)
        try await setup.query(RawQueueSQL.createTable)
        try await setup.query(RawQueueSQL.createIndex)
        try await setup.query(RawQueueSQL.fill(jobs))
        try await setup.query(RawQueueSQL.analyze)
        let cpuBefore = CPUTime.now()
        let elapsed = try await ContinuousClock().measure {
            try await claimAndComplete(configuration, claim: RawQueueSQL.claim, complete: RawQueueSQL.complete)
        }
        let cpu = CPUTime.now() - cpuBefore
        let finished = try await setup.query(RawQueueSQL.countFinished).single(Int.self)
        try await setup.query(RawQueueSQL.dropSchema)
        guard finished == jobs else {
            throw CommandFailure(message: "the raw loop finished \(finished) of \(jobs) rows")
        }
        return Figures(jobsPerSecond: Double(jobs) / elapsed.seconds, machineCPUPerJob: .seconds(cpu.machine / Double(jobs)))
    }
}

/// Four connections, each running `claim` and then `complete` on the ids it returned, until a
/// claim returns none: the loop both SQL baselines of `bench burndown` time.
func claimAndComplete(
    _ configuration: PQConfiguration, claim: PQQuery, complete: @escaping @Sendable ([Int64]) -> PQQuery
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<4 {
            group.addTask {
                let connection = try await PQConnection.connect(configuration)
                do {
                    while true {
                        let ids = try await connection.query(claim).map { try $0.decode(Int64.self, at: 0) }
                        if ids.isEmpty { break }
                        try await connection.query(complete(ids))
                    }
                } catch {
                    await connection.close()
                    throw error
                }
                await connection.close()
            }
        }
        try await group.waitForAll()
    }
}

/// The raw loop's statements, on porter_bench.raw_jobs.
enum RawQueueSQL {
    /// Removes the raw loop's schema and table, if a previous run left them.
    static let dropSchema: PQQuery = "DROP SCHEMA IF EXISTS porter_bench CASCADE"
    /// The raw loop's own schema, apart from Porter's.
    static let createSchema: PQQuery = "CREATE SCHEMA porter_bench"
    /// The narrow queue table: what a claim orders by, the status, and the two timestamps.
    static let createTable: PQQuery = """
        CREATE TABLE porter_bench.raw_jobs (
            id bigserial PRIMARY KEY, queue text NOT NULL, status text NOT NULL DEFAULT 'queued',
            priority integer NOT NULL DEFAULT 0, run_at timestamptz NOT NULL DEFAULT now(),
            attempts integer NOT NULL DEFAULT 0, started_at timestamptz, ended_at timestamptz)
        """
    /// The claim index: only waiting rows, in claim order.
    static let createIndex: PQQuery =
        "CREATE INDEX raw_jobs_claim_idx ON porter_bench.raw_jobs (queue, priority, run_at, id) WHERE status = 'queued'"
    /// `count` waiting rows in one statement.
    static func fill(_ count: Int) -> PQQuery {
        "INSERT INTO porter_bench.raw_jobs (queue) SELECT 'bench' FROM generate_series(1, \(count))"
    }
    /// Fresh statistics, so the claim plans on raw_jobs_claim_idx.
    static let analyze: PQQuery = "ANALYZE porter_bench.raw_jobs"
    /// Claims the next 100 waiting rows; served by raw_jobs_claim_idx, SKIP LOCKED between the
    /// four connections.
    static let claim: PQQuery = """
        WITH next AS (
            SELECT id FROM porter_bench.raw_jobs WHERE queue = 'bench' AND status = 'queued' AND run_at <= now()
            ORDER BY priority, run_at, id LIMIT 100 FOR UPDATE SKIP LOCKED)
        UPDATE porter_bench.raw_jobs j SET status = 'started', started_at = now(), attempts = j.attempts + 1
        FROM next WHERE j.id = next.id RETURNING j.id
        """
    /// Completes the claimed rows; served by the primary key.
    static func complete(_ ids: [Int64]) -> PQQuery {
        "UPDATE porter_bench.raw_jobs SET status = 'finished', ended_at = now() WHERE id = ANY(\(ids)::bigint[])"
    }
    /// How many rows the loop finished: a check that it did all the work.
    static let countFinished: PQQuery = "SELECT count(*) FROM porter_bench.raw_jobs WHERE status = 'finished'"
}
