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

    /// A stable fingerprint of the SQL (FNV-1a, 64 bits), recorded when applied so an edited
    /// migration can be noticed.
    public var checksum: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
