import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

struct DumpFailed: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// schema/porter.sql is the schema the migrations leave, in one file a reader can open: these
/// tests keep it so, and keep released migrations from changing.
@Suite struct SchemaFileTests {
    static let schemaFile = MigrationTests.packageRoot.appendingPathComponent("schema/porter.sql")
    static let releasedFile = MigrationTests.packageRoot.appendingPathComponent("migrations/RELEASED")

    /// The file's opening comment: what it is, how it is made, and where the contract's lists live.
    static let header = """
        -- schema/porter.sql: the schema `porter` as migrations/0001… leave it on a fresh database,
        -- dumped by pg_dump (schema only, no owners). Read it to see a table, an index or a function
        -- as it is today; change it only through a new migration, then run scripts/dump-schema.
        -- SchemaFileTests fails while this file and the migrations differ.
        --
        -- Where the contract's words live. Swift writes each list once, in Sources/Porter/Contract/;
        -- SQL cannot share a constant between a constraint, an index predicate and a function
        -- body, so each list below is defined once and repeated where PostgreSQL needs its text:
        --   * every status: CHECK jobs_status_valid (Swift: JobStatus);
        --   * active (queued, scheduled, started, deferred): the predicate of the unique index
        --     jobs_job_id_active_key (less a debounced job once started: the next enqueue of its
        --     job_id makes a new job); enqueue, enqueue_many and retry_jobs repeat it, since an
        --     ON CONFLICT clause must imply the predicate of the index it arbitrates on
        --     (Swift: JobStatus.active);
        --   * ended (finished, failed, canceled): CHECK jobs_ended_at_when_ended and index
        --     jobs_ended_at_idx; end_attempts and job_status_changed repeat it (JobStatus.ended);
        --   * claimable (queued, scheduled): the predicate of indexes jobs_claim_idx and
        --     jobs_limit_claim_idx, which porter.claim_queued and porter.claim_limited repeat so
        --     that the planner can use them (JobStatus.claimable);
        --   * NOTIFY channels: porter_enqueue (a queue has runnable jobs, or a limited job
        --     ended and freed its place; payload the queue),
        --     porter_realtime (job events, progress, publish_realtime; JSON), and porter_cancel
        --     (sent by the Swift client; payload a job id) (Swift: PorterChannel);
        --   * session settings read with current_setting: porter.job_events,
        --     porter.worker_statement, porter.current_job_id, porter.relay_progress,
        --     porter.max_args_bytes, porter.traceparent, porter.tracestate; limits live in the
        --     table porter.settings (Swift: PorterSetting);
        --   * advisory lock keys: PorterLockKey in Swift, and one transaction lock per limited
        --     queue that porter.claim_limited takes on hashtextextended('porter.claim_limited ' ||
        --     queue, 0), a one-key lock.

        """

    /// What pg_dump prints of schema porter in `database`, less the lines that vary from run to
    /// run (the server's and pg_dump's versions, \\restrict's random key). pg_dump runs on a
    /// thread of its own (`TestDaemon.run`): waited for on the cooperative pool, which has one
    /// thread per core, two dumps at once stalled every other test of the process for seconds.
    static func dump(_ database: TestDatabase) async throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("porter-schema-\(UUID().uuidString).sql")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("porter-schema-\(UUID().uuidString).log")
        defer {
            try? FileManager.default.removeItem(at: output)
            try? FileManager.default.removeItem(at: log)
        }
        let bin = try EmbeddedPostgres.findBinDirectory()
        let status = try await TestDaemon.run(
            [bin + "/pg_dump", "--schema-only", "--schema=porter", "--no-owner", "--no-tablespaces",
             "--file=" + output.path, "--dbname=" + database.connectionString],
            log: log.path)
        guard status == 0 else {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw DumpFailed(message: "pg_dump exited with \(status): \(text)")
        }
        let lines = try String(contentsOf: output, encoding: .utf8).components(separatedBy: "\n").filter { line in
            !line.hasPrefix("\\restrict") && !line.hasPrefix("\\unrestrict")
                && !line.hasPrefix("-- Dumped from database version") && !line.hasPrefix("-- Dumped by pg_dump version")
        }
        return header + lines.joined(separator: "\n")
    }

    /// The first line where two texts differ, for a failure message that fits on a screen.
    static func firstDifference(_ expected: String, _ actual: String) -> String {
        let left = expected.components(separatedBy: "\n")
        let right = actual.components(separatedBy: "\n")
        for index in 0..<max(left.count, right.count) {
            let a = index < left.count ? left[index] : "(end of file)"
            let b = index < right.count ? right[index] : "(end of file)"
            if a != b { return "line \(index + 1): schema/porter.sql has\n  \(a)\nthe migrations give\n  \(b)" }
        }
        return "no difference"
    }

    /// With PORTER_WRITE_SCHEMA=1 (scripts/dump-schema) it writes the file instead of checking it.
    @Test func theSchemaFileIsWhatTheMigrationsProduce() async throws {
        let database = try await TestDatabase.create()
        let dumped = try await Self.dump(database)
        if ProcessInfo.processInfo.environment["PORTER_WRITE_SCHEMA"] == "1" {
            try FileManager.default.createDirectory(at: Self.schemaFile.deletingLastPathComponent(), withIntermediateDirectories: true)
            try dumped.write(to: Self.schemaFile, atomically: true, encoding: .utf8)
            return
        }
        let checkedIn = try String(contentsOf: Self.schemaFile, encoding: .utf8)
        #expect(checkedIn == dumped, "schema/porter.sql is not what the migrations produce; run scripts/dump-schema. \(Self.firstDifference(checkedIn, dumped))")
        // The file holds what a reader comes for: every function's body as it is now.
        #expect(checkedIn.contains("CREATE FUNCTION porter.end_attempts("))
        #expect(checkedIn.contains("CREATE TABLE porter.jobs ("))
        try await database.drop()
    }

    /// A database migrated with flow control as first released (migrations up to 0023, the
    /// texts of 5dd4dd9), holding a window the later fixes refuse, then by this main, has the
    /// schema of a fresh install, and its window is brought to the 100 years a claim can use:
    /// 0024 fixes forward what 0021 and 0022 let through.
    @Test func aDatabaseWithFlowControlAsFirstReleasedUpgradesToTheSchemaFileSchema() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let connection = try await database.connect()
        let released = try await Migrator(migrations: Migration.all.filter { $0.version <= 23 }).migrate(on: connection)
        #expect(released.map(\.version).suffix(3) == [21, 22, 23])
        try await connection.query("SELECT porter.set_limit('sms', max_starts => 5, per => interval '1000000 years')")
        try await Migrator().migrate(on: connection)
        #expect(try await connection.query("SELECT per = interval '36525 days' FROM porter.queue_limits WHERE queue = 'sms'").single(Bool.self))
        #expect(try await connection.query("SELECT count(*) FROM porter.claim_limited('sms', 'w', 5)").single(Int.self) == 0)
        await connection.close()
        let dumped = try await Self.dump(database)
        let checkedIn = try String(contentsOf: Self.schemaFile, encoding: .utf8)
        #expect(checkedIn == dumped, "an upgraded database differs from a fresh one. \(Self.firstDifference(checkedIn, dumped))")
        try await database.drop()
    }

    /// A database migrated under the tracing branch's numbering (fd7edfc: flow control to the
    /// trace context as 0020-0024, migrations/RETIRED), with work in it, is recorded under the
    /// released numbering, gets 0027 on, and ends with the schema of a fresh install; its
    /// porter.enqueue_doc takes a traceparent, and its jobs run on.
    @Test func aDatabaseMigratedUnderTheRetiredNumberingUpgradesToTheSchemaFileSchema() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let connection = try await database.connect()
        let branch = Migration.all.filter { $0.version <= 19 } + Migration.retired
        let earlier = try await Migrator(migrations: branch).migrate(on: connection)
        #expect(earlier.map(\.version).suffix(5) == [20, 21, 22, 23, 24])
        let id = try await connection.query(
            "SELECT porter.enqueue_doc('Outlet', 'OUT-1', 'sync_stock', limit_key => 'OUT-1')").single(Int64.self)
        let applied = try await Migrator().migrate(on: connection)
        #expect(applied.map(\.version) == Migration.all.filter { $0.version > 26 }.map(\.version))
        let recorded = try await connection.query(
            "SELECT array_agg(version || ' ' || name || ' ' || checksum ORDER BY version) FROM porter.schema_migrations").single([String].self)
        #expect(recorded == Migration.all.map { "\($0.version) \($0.name) \($0.checksum)" })
        let tracedID = try await connection.query("""
            SELECT porter.enqueue_doc('Outlet', 'OUT-2', 'sync_stock',
                traceparent => '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
            """).single(Int64.self)
        let traced = try await connection.query("SELECT traceparent FROM porter.jobs WHERE id = \(tracedID)").single(String?.self)
        #expect(traced == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        #expect(try await Migrator().migrate(on: connection).isEmpty)
        await connection.close()
        let dumped = try await Self.dump(database)
        let checkedIn = try String(contentsOf: Self.schemaFile, encoding: .utf8)
        #expect(checkedIn == dumped, "an upgraded database differs from a fresh one. \(Self.firstDifference(checkedIn, dumped))")
        #expect(try await database.makeClient().jobStatus(id: id) == .queued)
        try await database.drop()
    }

    /// A database migrated by an earlier main (b4b7a45, which shipped 0001–0017 with the texts
    /// they have today), then by this one, has the schema of a fresh install: the schema file.
    @Test func aDatabaseMigratedByAnEarlierMainThenByThisOneHasTheSchemaFileSchema() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let connection = try await database.connect()
        let earlier = try await Migrator(migrations: Migration.all.filter { $0.version <= 17 }).migrate(on: connection)
        #expect(earlier.count == 17)
        // Work the earlier release left behind goes on under the new schema.
        let id = try await connection.query("SELECT porter.enqueue('reports.generate', job_id => 'before-upgrade')").single(Int64.self)
        let applied = try await Migrator().migrate(on: connection)
        #expect(applied.map(\.version) == Migration.all.filter { $0.version > 17 }.map(\.version))
        await connection.close()
        let dumped = try await Self.dump(database)
        let checkedIn = try String(contentsOf: Self.schemaFile, encoding: .utf8)
        #expect(checkedIn == dumped, "an upgraded database differs from a fresh one. \(Self.firstDifference(checkedIn, dumped))")
        let status = try await database.makeClient().jobStatus(id: id)
        #expect(status == .queued)
        try await database.drop()
    }

    /// migrations/RELEASED lists the checksum of every migration that has reached main. A
    /// released migration whose text changes fails here, in CI, before any database meets it.
    @Test func noReleasedMigrationHasChanged() throws {
        let lines = try String(contentsOf: Self.releasedFile, encoding: .utf8).components(separatedBy: "\n")
            .filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        // By version and name: the retired numbering (migrations/RETIRED) reuses numbers.
        var listed: [String: String] = [:]
        for line in lines {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            let version = try #require(fields.first.flatMap { Int($0) }, "migrations/RELEASED: a line that is not `NNNN name checksum`: \(line)")
            #expect(fields.count == 3, "migrations/RELEASED: a line that is not `NNNN name checksum`: \(line)")
            listed["\(version) \(fields[1])"] = try #require(fields.last.map(String.init))
        }
        for migration in Migration.all + Migration.retired {
            guard let checksum = listed["\(migration.version) \(migration.name)"] else {
                Issue.record("migration \(migration.version) \(migration.name) is not in migrations/RELEASED; add `\(migration.version) \(migration.name) \(migration.checksum)` when it lands")
                continue
            }
            #expect(checksum == migration.checksum, "released migration \(migration.version) \(migration.name) was changed (checksum \(migration.checksum), released \(checksum)): restore it and put the change in a new migration")
        }
    }
}
