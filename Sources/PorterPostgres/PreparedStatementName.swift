/// The name a prepared statement gets on the server: `porter_` and the 64-bit FNV-1a hash of
/// its SQL text, in hex (`porter_3f0c…`).
///
/// Made from the text, so the same SQL has the same name in every process and on every
/// connection, and different SQL never shares a name (a collision needs two of Porter's
/// statements whose 64-bit hashes agree). Not Swift's `hashValue`, which is seeded anew in
/// each process.
enum PreparedStatementName {
    static func of(_ sql: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "porter_" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
