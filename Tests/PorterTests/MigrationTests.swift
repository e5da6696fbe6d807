import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

@Suite struct MigrationTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func embeddedMigrationsMatchTheFilesInMigrationsFolder() throws {
        let folder = Self.packageRoot.appendingPathComponent("migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.count == Migration.all.count, "run scripts/embed-migrations")
        for (file, migration) in zip(files, Migration.all) {
            #expect(file == String(format: "%04d", migration.version) + "_" + migration.name + ".sql")
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(text.trimmingCharacters(in: .newlines) == migration.sql.trimmingCharacters(in: .newlines), "run scripts/embed-migrations")
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
}
