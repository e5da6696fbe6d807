@testable import PorterPostgres
import Testing

@Suite struct PreparedStatementNameTests {
    /// The name depends on the SQL text alone, so every process and connection agrees on it,
    /// and different statements get different names.
    @Test func nameIsTheFNV1aHashOfTheSQLText() {
        // FNV-1a 64 of the empty string is its offset basis; of "a", the published test vector.
        #expect(PreparedStatementName.of("") == "porter_cbf29ce484222325")
        #expect(PreparedStatementName.of("a") == "porter_af63dc4c8601ec8c")
        #expect(PreparedStatementName.of("SELECT $1::int + 1") == PreparedStatementName.of("SELECT $1::int + 1"))
        #expect(PreparedStatementName.of("SELECT $1::int + 1") != PreparedStatementName.of("SELECT $1::int * 10"))
        #expect(PreparedStatementName.of(String(repeating: "x", count: 10_000)).utf8.count == 23)
    }
}
