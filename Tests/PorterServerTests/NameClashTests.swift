import Porter
import PorterPostgres
import PorterPostgresNIO
import PostgresNIO
import Testing

/// With PostgresNIO, Porter and PorterPostgres imported together, postgres-nio's names mean
/// postgres-nio's types: this file compiles only if none of them is ambiguous.
@Suite struct NameClashTests {
    @Test func postgresNIONamesAreUnambiguousBesidePorter() {
        #expect(PostgresConnection.self == PostgresNIO.PostgresConnection.self)
        #expect(PostgresQuery.self == PostgresNIO.PostgresQuery.self)
        #expect(PostgresError.self == PostgresNIO.PostgresError.self)
        #expect(PostgresRow.self == PostgresNIO.PostgresRow.self)
        #expect(PostgresNotification.self == PostgresNIO.PostgresNotification.self)
        #expect(PostgresData.self == PostgresNIO.PostgresData.self)
        #expect(PostgresClient.self == PostgresNIO.PostgresClient.self)
        #expect((any PostgresDecodable).self == (any PostgresNIO.PostgresDecodable).self)
        #expect((any PostgresEncodable).self == (any PostgresNIO.PostgresEncodable).self)
        // Porter's own keep their PQ names.
        #expect(PQConnection.self == PorterPostgres.PQConnection.self)
        #expect(PQQuery.self == PorterPostgres.PQQuery.self)
        #expect(PQError.self == PorterPostgres.PQError.self)
        #expect(PQRow.self == PorterPostgres.PQRow.self)
        #expect(PQNotification.self == PorterPostgres.PQNotification.self)
    }
}
