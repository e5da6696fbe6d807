import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

@Suite struct MigrationTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func embeddedMigrationsMatchTheFilesInMigrationsFolder() throws {
        let folder = Self.packageRoot.appendingPathComponent("migrations")
        let retired = try String(contentsOf: folder.appendingPathComponent("RETIRED"), encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
            .filter { !retired.contains($0) }
        for (names, migrations) in [(files, Migration.all), (retired, Migration.retired)] {
            #expect(names.count == migrations.count, "run scripts/embed-migrations")
            for (file, migration) in zip(names, migrations) {
                #expect(file == String(format: "%04d", migration.version) + "_" + migration.name + ".sql")
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                #expect(text.trimmingCharacters(in: .newlines) == migration.sql.trimmingCharacters(in: .newlines), "run scripts/embed-migrations")
            }
        }
    }

    @Test func migratingTwiceAppliesEverythingOnceAndThenNothing() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let porter = database.makeClient()
        let first = try await porter.migrate()
        let second = try await porter.migrate()
        #expect(first.map(\.version) == Migration.all.map(\.version))
        #expect(second.isEmpty)
        let versions = try await porter.pool.query("SELECT array_agg(version ORDER BY version) FROM porter.schema_migrations").single([Int].self)
        #expect(versions == Migration.all.map(\.version))
        await porter.close()
    }

    @Test func fourProcessesMigratingAtOnceApplyEachMigrationOnce() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let results = try await withThrowingTaskGroup(of: CLIResult.self) { group in
            for _ in 0..<4 {
                group.addTask { try await runPorter(["migrate", "--database-url", database.connectionString]) }
            }
            return try await group.reduce(into: [CLIResult]()) { $0.append($1) }
        }
        for result in results { #expect(result.status == 0, "\(result.output)") }
        #expect(results.filter { $0.output.contains("applied 1 ") }.count == 1)
        let connection = try await database.connect()
        let row = try #require(try await connection.query("SELECT count(*), count(DISTINCT version) FROM porter.schema_migrations").first)
        let (count, distinct) = try row.decode((Int, Int).self)
        #expect(count == Migration.all.count && distinct == Migration.all.count)
        // And the schema works.
        #expect(try await connection.query("SELECT porter.enqueue('m')").single(Int64.self) > 0)
        await connection.close()
    }

    /// A database that applied another text of a released migration is refused before
    /// anything changes, with an error that names the migration and says what to do.
    @Test func aMigrationChangedAfterItWasAppliedMakesMigrateRefuseNamingIt() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let connection = try await database.connect()
        try await Migrator(migrations: Migration.all.filter { $0.version <= 17 }).migrate(on: connection)
        try await connection.execute("UPDATE porter.schema_migrations SET checksum = '00000000deadbeef' WHERE version = 3")
        let porter = database.makeClient()
        do {
            try await porter.migrate()
            Issue.record("migrate applied migrations over a changed one")
        } catch let error as PorterError {
            #expect(error.code == .migrationChanged(version: 3))
            #expect(error.message.contains("migration 0003_worker was applied to this database with checksum 00000000deadbeef"))
            #expect(error.message.contains("restore it"))
        }
        // Nothing after 0017 was applied.
        #expect(try await connection.query("SELECT max(version) FROM porter.schema_migrations").single(Int.self) == 17)
        // The command line says the same and fails.
        let result = try await runPorter(["migrate", "--database-url", database.connectionString])
        #expect(result.status != 0 && !result.crashed)
        #expect(result.output.contains("migration 0003_worker was applied to this database with checksum 00000000deadbeef"), "\(result.output)")
        #expect(try await connection.query("SELECT max(version) FROM porter.schema_migrations").single(Int.self) == 17)
        await porter.close()
        await connection.close()
    }

    /// The first published texts of 0001, 0002, 0005 and 0006 are accepted: a database that
    /// applied them reaches today's schema (the test below), so refusing it would help no one.
    @Test func theFirstPublishedTextsOfCorrectedMigrationsAreAccepted() throws {
        let folder = Self.packageRoot.appendingPathComponent("Tests/Fixtures/first-published-migrations")
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).filter({ $0.hasSuffix(".sql") }) {
            let version = try #require(Int(file.prefix(4)))
            let current = try #require(Migration.all.first { $0.version == version })
            var text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            if text.hasSuffix("\n") { text.removeLast() }
            let first = Migration(version: version, name: current.name, sql: text)
            #expect(first.checksum != current.checksum)
            #expect(current.accepts(recordedChecksum: first.checksum), "\(file)")
        }
        #expect(!Migration.all[2].accepts(recordedChecksum: "00000000deadbeef"))
    }

    /// A worker refuses to start on a database that applied another text of a migration.
    @Test func aWorkerRefusesADatabaseWithAChangedMigration() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.pool.query("UPDATE porter.schema_migrations SET checksum = '00000000deadbeef' WHERE version = 5")
        let worker = Worker(client: porter, configuration: fastConfiguration())
        let error = await #expect(throws: PorterError.self) { try await worker.run() }
        #expect(error?.code == .migrationChanged(version: 5))
        #expect(error?.message.contains("migration 0005_realtime was applied to this database") == true, "\(String(describing: error))")
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.workers").single(Int.self) == 0)
        await porter.close()
    }

    /// Everything in schema porter that a migration creates, one line per object: columns
    /// with types and defaults, constraints and whether they are validated, indexes, triggers,
    /// views, function definitions, and every privilege.
    static func schemaSignature(_ connection: PQConnection) async throws -> [String] {
        try await connection.query("""
            SELECT line FROM (
                SELECT format('column %s.%s %s%s%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                              CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                              coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')) AS line
                FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                WHERE c.relnamespace = 'porter'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
              UNION ALL
                SELECT format('relation %s %s %s %s %s', c.relname, c.relkind, c.relacl, c.reloptions, obj_description(c.oid, 'pg_class'))
                FROM pg_class c WHERE c.relnamespace = 'porter'::regnamespace
              UNION ALL
                SELECT format('view %s %s', c.relname, pg_get_viewdef(c.oid))
                FROM pg_class c WHERE c.relnamespace = 'porter'::regnamespace AND c.relkind = 'v'
              UNION ALL
                SELECT format('constraint %s.%s %s %s', c.relname, con.conname, pg_get_constraintdef(con.oid), con.convalidated)
                FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid WHERE c.relnamespace = 'porter'::regnamespace
              UNION ALL
                SELECT format('index %s', pg_get_indexdef(x.indexrelid))
                FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE i.relnamespace = 'porter'::regnamespace
              UNION ALL
                SELECT format('trigger %s', pg_get_triggerdef(t.oid))
                FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                WHERE c.relnamespace = 'porter'::regnamespace AND NOT t.tgisinternal
              UNION ALL
                SELECT format('function %s %s %s', p.oid::regprocedure, p.proacl, pg_get_functiondef(p.oid))
                FROM pg_proc p WHERE p.pronamespace = 'porter'::regnamespace
              UNION ALL
                SELECT format('schema %s', n.nspacl) FROM pg_namespace n WHERE n.nspname = 'porter'
            ) AS s ORDER BY line
            """).map { try $0.decode(String.self) }
    }

    /// Migrations 0001, 0002, 0005 and 0006 were edited after they had been published
    /// (Tests/Fixtures/first-published-migrations holds their first texts, from git). A
    /// database that applied the first texts, then everything after as it came out, must end
    /// with the schema a fresh database gets.
    @Test func aDatabaseMigratedWithTheFirstPublishedTextsEndsWithTheSchemaOfAFreshOne() async throws {
        let folder = Self.packageRoot.appendingPathComponent("Tests/Fixtures/first-published-migrations")
        func firstText(_ version: Int) throws -> Migration {
            let current = try #require(Migration.all.first { $0.version == version })
            let file = folder.appendingPathComponent(String(format: "%04d", version) + "_" + current.name + ".sql")
            // As a release embedded it: the file less its last newline (scripts/embed-migrations).
            var text = try String(contentsOf: file, encoding: .utf8)
            if text.hasSuffix("\n") { text.removeLast() }
            return Migration(version: version, name: current.name, sql: text)
        }
        let current = { (version: Int) in Migration.all.first { $0.version == version }! }
        let old = try await TestDatabase.create(migrated: false)
        let connection = try await old.connect()
        // As the database would have been migrated by each release in turn.
        for release in [[try firstText(1), try firstText(2)], [current(3), current(4), try firstText(5)], [try firstText(6)], Migration.all] {
            try await Migrator(migrations: release).migrate(on: connection)
        }
        let fresh = try await TestDatabase.create()
        let freshConnection = try await fresh.connect()
        let oldSchema = try await Self.schemaSignature(connection)
        let freshSchema = try await Self.schemaSignature(freshConnection)
        #expect(oldSchema.count > 100)
        #expect(Set(oldSchema).subtracting(freshSchema).sorted() == [], "only in the database migrated with the first texts")
        #expect(Set(freshSchema).subtracting(oldSchema).sorted() == [], "only in the fresh database")
        await connection.close()
        await freshConnection.close()
    }

    /// 0014's table constraints meet rows that a plain INSERT stored before them: each is
    /// fixed, or failed or canceled saying why, or kept as history, as the migration says.
    @Test func migration0014FixesFailsOrKeepsEachRowItsConstraintsWouldRefuse() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let connection = try await database.connect()
        try await Migrator(migrations: Migration.all.filter { $0.version <= 13 }).migrate(on: connection)
        func insert(_ columns: String, _ values: String) async throws -> Int64 {
            try await connection.query(
                "INSERT INTO porter.jobs (\(unsafeRaw: columns)) VALUES (\(unsafeRaw: values)) RETURNING id").single(Int64.self)
        }
        let noParents = try await insert("method, status", "'m', 'deferred'")
        let nullParent = try await insert("method, status, depends_on", "'m', 'deferred', '{NULL}'")
        let never = try await insert("method, run_at", "'m', 'infinity'")
        let pastInfinity = try await insert("method, run_at", "'m', '-infinity'")
        let unended = try await insert("method, status", "'m', 'finished'")
        let notEnded = try await insert("method, ended_at", "'m', now()")
        let negative = try await insert("method, orphaned", "'m', -1000")
        let object = try await insert("method, errors", "'m', '{\"e\": 1}'")
        // As stored: a value that compresses under the limit is not over it. Hex digits of md5
        // sums do not compress.
        let bigArgs = try await insert(
            "method, args", "'m', jsonb_build_object('blob', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 60000) i))")
        let longHistory = try await insert("method, status, ended_at", "repeat('x', 10000), 'finished', now()")
        let longQueue = try await insert("method, queue, status, worker_id", "'m', repeat('q', 200), 'started', 'w'")
        let fine = try await insert("method", "'m'")
        let finishedParent = try await insert("method, status, ended_at", "'p', 'finished', now()")
        let afterParent = try await insert("method, status, depends_on", "'m', 'deferred', ARRAY[\(finishedParent)]::bigint[]")
        let applied = try await Migrator(migrations: Migration.all.filter { $0.version <= 14 }).migrate(on: connection)
        #expect(applied.map(\.version) == [14])

        func row(_ id: Int64) async throws -> (status: String, error: String?, endedAt: Bool, runAtFinite: Bool) {
            let row = try #require(try await connection.query(
                "SELECT status, error, ended_at IS NOT NULL, isfinite(run_at) FROM porter.jobs WHERE id = \(id)").first)
            let (status, error, ended, finite) = try row.decode((String, String?, Bool, Bool).self)
            return (status, error, ended, finite)
        }
        #expect(try await row(noParents).status == "queued")
        #expect(try await row(nullParent).status == "queued")
        #expect(try await connection.query("SELECT depends_on IS NULL FROM porter.jobs WHERE id = \(nullParent)").single(Bool.self))
        let canceled = try await row(never)
        #expect(canceled.status == "canceled" && canceled.endedAt && canceled.runAtFinite)
        #expect(canceled.error?.contains("run_at was infinity") == true)
        let normalized = try await row(pastInfinity)
        #expect(normalized.status == "queued" && normalized.runAtFinite)
        #expect(try await row(unended).endedAt)
        #expect(try await row(notEnded).endedAt == false)
        #expect(try await connection.query("SELECT orphaned FROM porter.jobs WHERE id = \(negative)").single(Int.self) == 0)
        #expect(try await connection.query("SELECT errors::text FROM porter.jobs WHERE id = \(object)").single(String.self) == #"[{"e": 1}]"#)
        let failedArgs = try await row(bigArgs)
        #expect(failedArgs.status == "failed" && failedArgs.endedAt)
        #expect(failedArgs.error?.hasPrefix("failed by migration 0014: its args are") == true)
        let failedQueue = try await row(longQueue)
        #expect(failedQueue.status == "failed")
        #expect(failedQueue.error?.hasPrefix("failed by migration 0014: its queue is 200 bytes") == true)
        #expect(try await row(longHistory).status == "finished")
        #expect(try await row(fine).status == "queued")
        #expect(try await row(afterParent).status == "queued")
        // History over a limit is kept, so those constraints wait, NOT VALID, for its pruning;
        // every other one was checked against every row.
        let unchecked = try await connection.query("""
            SELECT array_agg(conname::text ORDER BY conname) FROM pg_constraint
            WHERE conrelid = 'porter.jobs'::regclass AND NOT convalidated
            """).single([String].self)
        #expect(unchecked == ["jobs_args_within_limit", "jobs_method_within_limit", "jobs_queue_within_limit"])
        await connection.close()
    }
}
