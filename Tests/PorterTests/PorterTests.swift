import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

struct GenerateReport: Job {
    static let method = "reports.generate"
    var outletGroup: String?
}

/// Rows in porter.jobs, counted by the test's own connection.
func jobCount(_ database: TestDatabase, where condition: String = "true") async throws -> Int {
    let connection = try await database.connect()
    let count = try await connection.query("SELECT count(*) FROM porter.jobs WHERE \(unsafeRaw: condition)").single(Int.self)
    await connection.close()
    return count
}
