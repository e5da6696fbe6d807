/// One numbered, forward-only schema change from `migrations/`.
public struct Migration: Sendable, Hashable {
    /// The number in the file name: `0002_enqueue.sql` is version 2.
    public let version: Int
    /// The rest of the file name: `enqueue`.
    public let name: String
    /// The file's SQL, run as one transaction.
    public let sql: String

    /// A migration: its number, its name, and the SQL it runs.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// A stable fingerprint of the SQL (FNV-1a, 64 bits), recorded when applied so that a
    /// migration edited after its release is refused (`Migrator`).
    public var checksum: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Whether `checksum`, recorded by a database, is this migration's: its text now, or a text
    /// an earlier release shipped (`earlierReleasedChecksums`).
    public func accepts(recordedChecksum checksum: String) -> Bool {
        checksum == self.checksum || Self.earlierReleasedChecksums[version]?.contains(checksum) == true
    }

    /// The checksums of the texts that the first releases shipped for migrations 0001, 0002,
    /// 0005 and 0006, before those files were corrected in place (commits 6c304c0, f4365de and
    /// 38512de; the texts are in Tests/Fixtures/first-published-migrations). A database that
    /// applied them reaches the same schema through the later migrations, as
    /// `MigrationTests` shows, so they are accepted. No other migration ever changed after
    /// its release, and none may: fix forward with a new migration.
    static let earlierReleasedChecksums: [Int: Set<String>] = [
        1: ["40698e780012848a"],
        2: ["5dd72f9ee7a1794a"],
        5: ["dc483c42d78d5274"],
        6: ["7e4a5d563b365b53"],
    ]

    /// The released migrations that a database which applied every one of `retired` (the
    /// tracing branch's numbering, migrations/RETIRED) stands for: 0021-0026 have the same
    /// schema but for porter.enqueue_doc's trace parameters, which 0031 adds everywhere.
    static let retiredStandFor: ClosedRange<Int> = 21...26

    /// When `recorded` (version to checksum, as porter.schema_migrations holds them) is a
    /// database migrated under the retired numbering, with every retired migration applied as
    /// released and nothing after them, the migrations of `all` to record in their place;
    /// nil otherwise. A database with only some of them is refused as a changed migration.
    static func renumbering(of recorded: [Int: String], retired: [Migration] = Migration.retired, all: [Migration] = Migration.all)
        -> [Migration]?
    {
        guard let last = retired.map(\.version).max(),
              retired.allSatisfy({ recorded[$0.version] == $0.checksum }),
              recorded.keys.allSatisfy({ $0 <= last })
        else { return nil }
        return all.filter { retiredStandFor.contains($0.version) }
    }
}
