import PorterPostgres

/// The SQL the migrator runs, in one place.
enum MigrationQueries {
    /// Waits for the migration lock; held for the session until `unlock`.
    static func lock(_ key: Int64) -> PQQuery {
        "SELECT pg_catalog.pg_advisory_lock(\(key))"
    }

    /// Releases the migration lock.
    static func unlock(_ key: Int64) -> PQQuery {
        "SELECT pg_catalog.pg_advisory_unlock(\(key))"
    }

    /// Creates the schema and the history table when missing (run under the lock).
    static let createHistoryTable = """
        CREATE SCHEMA IF NOT EXISTS porter;
        CREATE TABLE IF NOT EXISTS porter.schema_migrations (
            version    integer     NOT NULL,
            name       text        NOT NULL,
            checksum   text        NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT schema_migrations_pkey PRIMARY KEY (version)
        );
        """

    /// The newest applied version, 0 for none; served by schema_migrations_pkey.
    static let latestApplied: PQQuery = "SELECT coalesce(pg_catalog.max(version), 0) FROM porter.schema_migrations"

    /// Every applied version with its checksum; served by schema_migrations_pkey.
    static let listApplied: PQQuery = "SELECT version, checksum FROM porter.schema_migrations ORDER BY version"

    /// Forgets the records of `versions`, which a renumbering records again under other
    /// numbers (`Migration.renumbering(of:)`); served by schema_migrations_pkey.
    static func forget(_ versions: [Int]) -> PQQuery {
        "DELETE FROM porter.schema_migrations WHERE version = ANY(\(versions)::pg_catalog.int4[])"
    }

    /// Records one applied migration, in the migration's own transaction.
    static func record(_ migration: Migration) -> PQQuery {
        "INSERT INTO porter.schema_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(migration.checksum))"
    }
}
