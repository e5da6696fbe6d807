import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// `GET /orders/:id`: the order, and its job as `porter.jobs` has it.
struct OrderStatus: ResponseCodable {
    var id: Int
    var customer: String
    var items: Int
    var confirmed: Bool
    var job: JobView?

    /// The order joined with its job; served by orders_pkey and jobs_pkey.
    static func load(id: Int, from postgres: PostgresClient, logger: Logger) async throws -> OrderStatus? {
        let rows = try await postgres.query(
            """
            SELECT o.id, o.customer, o.items, o.confirmed_at IS NOT NULL,
                   j.id, j.status, j.attempts, j.progress::text, j.error
            FROM orders o LEFT JOIN porter.jobs j ON j.id = o.job
            WHERE o.id = \(id)
            """, logger: logger)
        for try await row in rows {
            let (id, customer, items, confirmed, jobID, status, attempts, progress, error) =
                try row.decode((Int, String, Int, Bool, Int64?, String?, Int?, String?, String?).self)
            var job: JobView?
            if let jobID, let status {
                job = JobView(
                    id: jobID, status: status, attempts: attempts ?? 0,
                    progress: progress.flatMap { try? JSONDecoder().decode(JobView.Progress.self, from: Data($0.utf8)) },
                    error: error)
            }
            return OrderStatus(id: id, customer: customer, items: items, confirmed: confirmed, job: job)
        }
        return nil
    }
}
