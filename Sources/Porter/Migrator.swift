import Logging
import PorterPostgres

/// Applies Porter's migrations idempotently.
///
/// Several processes may start at once: each takes the same session advisory lock first, so one
/// applies what is missing and the others then find nothing to do. Every applied migration is
/// recorded in `porter.schema_migrations` with its checksum.
public struct Migrator: Sendable {
    /// The advisory lock key: the bytes of "porter" as a bigint.
    public static let advisoryLockKey: Int64 = 0x706f_7274_6572

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
        var recorded: [Int: String] = [:]
        for row in try await connection.query(MigrationQueries.listApplied) {
            let (version, checksum) = try row.decode((Int, String).self)
            recorded[version] = checksum
        }
        var applied: [Migration] = []
        for migration in migrations {
            if let checksum = recorded[migration.version] {
                if checksum != migration.checksum {
                    logger.info(
                        "migration was edited after it was applied; forward-only migrations should not change",
                        metadata: ["porter.migration": "\(migration.version)_\(migration.name)"])
                }
                continue
            }
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
}
