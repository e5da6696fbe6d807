import Logging
import PorterPostgres

/// Applies Porter's migrations idempotently.
///
/// Several processes may start at once: each takes the same session advisory lock first, so one
/// applies what is missing and the others then find nothing to do. Every applied migration is
/// recorded in `porter.schema_migrations` with its checksum, and a migration whose recorded
/// checksum is not its shipped text's makes `migrate(on:)` throw before it changes anything
/// (`PorterError.Code.migrationChanged(version:)`): a released migration never changes.
public struct Migrator: Sendable {
    /// The advisory lock key: the bytes of "porter" as a bigint.
    public static let advisoryLockKey: Int64 = PorterLockKey.migration

    /// The migrations to apply. Default: every embedded one.
    public var migrations: [Migration]
    /// Where each applied migration is logged, at info.
    public var logger: Logger

    /// A migrator for `migrations` (Porter's own by default), logging each one it applies.
    public init(migrations: [Migration] = Migration.all, logger: Logger = Logger(label: "porter.migrate")) {
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.logger = logger
    }

    /// Applies the migrations this database lacks and returns them; empty when up to date.
    @discardableResult
    public func migrate(on connection: PQConnection) async throws -> [Migration] {
        try await connection.query(MigrationQueries.lock(Self.advisoryLockKey))
        do {
            let applied = try await applyPending(on: connection)
            try await connection.query(MigrationQueries.unlock(Self.advisoryLockKey))
            return applied
        } catch {
            await connection.rollbackIfOpen()
            _ = try? await connection.query(MigrationQueries.unlock(Self.advisoryLockKey))
            throw error
        }
    }

    private func applyPending(on connection: PQConnection) async throws -> [Migration] {
        try await connection.execute(MigrationQueries.createHistoryTable)
        var recorded = try await Self.recorded(on: connection)
        // A database migrated under the tracing branch's numbering (migrations/RETIRED): the
        // same schema under the released numbers, recorded so, in one transaction; 0031 adds
        // what it lacks.
        if let renumbered = Migration.renumbering(of: recorded, all: migrations) {
            logger.info("recording the migrations of the retired numbering under the released one")
            try await connection.withTransaction { connection in
                try connection.query(MigrationQueries.forget(Migration.retired.map(\.version)))
                for migration in renumbered { try connection.query(MigrationQueries.record(migration)) }
            }
            recorded = try await Self.recorded(on: connection)
        }
        // Refuse before changing anything: a database that applied another text of a released
        // migration has a schema this code was not written for.
        if let error = Self.changedMigration(in: recorded, migrations: migrations) { throw error }
        var applied: [Migration] = []
        for migration in migrations where recorded[migration.version] == nil {
            logger.info("applying migration", metadata: ["porter.migration": "\(migration.version)_\(migration.name)"])
            let sql = migration.sql
            let record = MigrationQueries.record(migration)
            try await connection.withTransaction { connection in
                try connection.execute(sql)
                try connection.query(record)
            }
            applied.append(migration)
        }
        return applied
    }

    /// Version to checksum, as porter.schema_migrations holds them.
    private static func recorded(on connection: PQConnection) async throws -> [Int: String] {
        var recorded: [Int: String] = [:]
        for row in try await connection.query(MigrationQueries.listApplied) {
            let (version, checksum) = try row.decode((Int, String).self)
            recorded[version] = checksum
        }
        return recorded
    }

    /// The error for the first of `migrations` whose checksum recorded in `recorded` (version to
    /// checksum, as `porter.schema_migrations` holds them) is not its text's; nil when none is.
    static func changedMigration(in recorded: [Int: String], migrations: [Migration] = Migration.all) -> PorterError? {
        for migration in migrations {
            if let checksum = recorded[migration.version], !migration.accepts(recordedChecksum: checksum) {
                return changedMigration(migration, recordedChecksum: checksum)
            }
        }
        return nil
    }

    /// The error for a migration whose applied text differs from the shipped one: which one,
    /// both checksums, and what to do.
    static func changedMigration(_ migration: Migration, recordedChecksum: String) -> PorterError {
        let number = String(migration.version)
        let file = String(repeating: "0", count: max(0, 4 - number.count)) + number + "_" + migration.name
        return PorterError(
            code: .migrationChanged(version: migration.version),
            message: """
                migration \(file) was applied to this database with checksum \(recordedChecksum), but this Porter ships \
                another text of it (checksum \(migration.checksum)); a released migration never changes, so nothing was \
                migrated. If you edited migrations/\(file).sql, restore it (git checkout -- migrations/\(file).sql) and put \
                the change in a new migration; otherwise run the Porter release that applied it, or one made from it
                """)
    }
}
