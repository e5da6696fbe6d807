import Foundation
import PorterPostgres
import PorterTesting
import Testing

@testable import Porter

/// How the worker's claim reads porter.jobs, whatever the table's statistics say.
@Suite struct ClaimPlanTests {
    /// The worker's claim, prepared as the worker prepares it and with the generic plan
    /// PostgreSQL settles on, reads as many rows of porter.jobs as it takes jobs, walking
    /// jobs_claim_idx in its order, whatever the planner's inputs say. Here the session turns
    /// index scans off, standing in for statistics that make a sort of the whole queue look
    /// cheaper (a table never analyzed, or analyzed while nearly empty): the plain statement
    /// then read every waiting job of the queue and sorted them, ten times slower with 100,000
    /// waiting (issue 21).
    @Test func theClaimWalksTheClaimIndexWhateverThePlannerIsTold() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.pool.query("""
            INSERT INTO porter.jobs (method, queue, status, run_at)
            SELECT 'test.plan', 'plan', 'queued', now() - interval '1 minute' FROM generate_series(1, 5000)
            """)
        let claim = JobRunQueries.claimAvailable(queue: "plan", limit: 10, workerID: "test-worker")
        let connection = try await database.connect()
        let (claimed, read) = try await connection.withTransaction { transaction in
            try transaction.query("SET LOCAL enable_indexscan = off")
            try transaction.query("SET LOCAL enable_indexonlyscan = off")
            // The plan a prepared statement ends up with after its first executions.
            try transaction.query("SET LOCAL plan_cache_mode = force_generic_plan")
            try transaction.query(PQQuery(unsafeSQL: "PREPARE claim(text, text, int8) AS " + claim.sql, binds: []))
            let claimed = try transaction.query(PQQuery(unsafeSQL: "EXECUTE claim('plan', 'test-worker', 10)", binds: [])).count
            // Rows of porter.jobs this transaction's scans read so far (sequential scans'
            // and index scans' alike), counted without waiting for the statistics' flush.
            let read = try transaction.query("""
                SELECT pg_stat_get_xact_tuples_returned('porter.jobs'::regclass)
                     + pg_stat_get_xact_tuples_fetched('porter.jobs'::regclass)
                """).single(Int.self)
            return (claimed, read)
        }
        await connection.close()
        #expect(claimed == 10)
        // Each job taken is read twice: found in the claim index, then updated through jobs_pkey.
        #expect(read <= 30, "the claim read \(read) rows of porter.jobs to take 10 jobs")
        #expect(try await porter.pool.query(
            "SELECT count(*) FROM porter.jobs WHERE status = 'started' AND worker_id = 'test-worker'").single(Int.self) == 10)
        await porter.close()
    }
}

/// How a worker's ends read porter.jobs, however many jobs it ended since the last vacuum.
@Suite struct EndPlanTests {
    /// porter.end_attempts finds each job it ends through jobs_pkey, one probe per outcome,
    /// whatever the planner's inputs say. Here 5,000 jobs the worker ended lie dead in
    /// jobs_started_worker_idx (no vacuum since), and the session turns nested loops off,
    /// standing in for statistics that make a scan of that index look cheaper: the function
    /// used to walk all 5,000 entries to end ten jobs, a fifth of PostgreSQL's CPU at 10
    /// slots (issue 21).
    @Test func endingJobsReadsOneIndexEntryPerJobWhateverTheWorkerEndedBefore() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.pool.query("ALTER TABLE porter.jobs SET (autovacuum_enabled = false)")
        try await porter.pool.query("""
            INSERT INTO porter.jobs (method, queue, status, started_at, attempts, worker_id, run_at)
            SELECT 'test.plan', 'plan', 'started', now(), 1, 'test-worker', now() FROM generate_series(1, 5010)
            """)
        // The outcomes as the completer sends them, built beforehand so that only the end is measured.
        func outcomes(_ range: String) async throws -> String {
            try await porter.pool.query(PQQuery(unsafeSQL: """
                SELECT jsonb_agg(jsonb_build_object('id', id, 'attempt', 1, 'status', 'finished', 'result', NULL,
                                                    'error', NULL, 'retry_in', 0, 'orphaned', false))::text
                FROM porter.jobs WHERE status = 'started' AND id \(range)
                """, binds: [])).single(String.self)
        }
        let end: PQQuery = "SELECT id FROM porter.end_attempts('test-worker', '[]', $1::jsonb, false) AS id"
        let first = try await porter.pool.query(PQQuery(unsafeSQL: end.sql, binds: [try await outcomes("<= 5000")])).count
        #expect(first == 5000)
        let last = try await outcomes("> 5000")
        let connection = try await database.connect()
        let (ended, read) = try await connection.withTransaction { transaction in
            try transaction.query("SET LOCAL enable_nestloop = off")
            let before = try transaction.query(Self.rowsRead).single(Int.self)
            let ended = try transaction.query(PQQuery(unsafeSQL: end.sql, binds: [last])).count
            return (ended, try transaction.query(Self.rowsRead).single(Int.self) - before)
        }
        await connection.close()
        #expect(ended == 10)
        // Ten probes of jobs_pkey.
        #expect(read <= 30, "ending 10 jobs read \(read) index entries and rows of porter.jobs")
        await porter.close()
    }

    /// Index entries that scans of porter.jobs' indexes returned in this transaction, and
    /// rows that sequential scans of it returned, counted without waiting for a flush.
    static let rowsRead: PQQuery = """
        SELECT (pg_stat_get_xact_tuples_returned('porter.jobs'::regclass)
                + (SELECT coalesce(sum(pg_stat_get_xact_tuples_returned(i.indexrelid)), 0)
                   FROM pg_index i WHERE i.indrelid = 'porter.jobs'::regclass))::int8
        """
}
