import Foundation
import Porter
import PorterPostgres

extension PorterClient {
    /// Waits until job `id` has `status` and returns its row. Polls the row (every 20 ms) against
    /// a deadline instead of sleeping; throws `ExpectationFailed` naming the job's last status
    /// and error when the deadline passes.
    @discardableResult
    public func waitForJob(_ id: Int64, toBe status: JobStatus, timeout: Duration = .seconds(30)) async throws -> JobRecord {
        var last: JobRecord?
        do {
            try await waitUntil(timeout: timeout, "job \(id) to be \(status)") {
                last = try await job(id: id)
                return last?.status == status
            }
        } catch let timedOut as TimedOut {
            throw ExpectationFailed(
                "\(timedOut): it is \(last?.status.rawValue ?? "missing"), error: \(last?.error ?? "none")")
        }
        guard let last else { throw ExpectationFailed("job \(id) is missing") }
        return last
    }

    /// The jobs of type `J` in `porter.jobs`, oldest first, with their arguments decoded as a
    /// worker decodes them; `status` narrows them to one status.
    public func enqueuedJobs<J: Job>(_ type: J.Type, status: JobStatus? = nil) async throws -> [EnqueuedJob<J>] {
        let ids = try await pool.query("""
            SELECT id FROM porter.jobs WHERE method = \(J.method) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
            ORDER BY id
            """).map { try $0.decode(Int64.self, at: 0) }
        var jobs: [EnqueuedJob<J>] = []
        for id in ids {
            guard let record = try await job(id: id) else { continue }
            jobs.append(EnqueuedJob(record: record, job: try record.decodeArgs(as: J.self)))
        }
        return jobs
    }

    /// The one job of type `J` whose arguments satisfy `matching` (and that has `status`, when
    /// given); throws `ExpectationFailed`, listing what was enqueued, when there is none or more
    /// than one. River's `RequireInserted`.
    @discardableResult
    public func requireEnqueued<J: Job>(
        _ type: J.Type, status: JobStatus? = nil, matching: (J) -> Bool = { _ in true }
    ) async throws -> EnqueuedJob<J> {
        let all = try await enqueuedJobs(type, status: status)
        let found = all.filter { matching($0.job) }
        guard found.count == 1 else {
            throw ExpectationFailed(
                "expected one \(J.method) job\(status.map { " that is \($0)" } ?? "") matching, found \(found.count); "
                    + "enqueued: \(Self.describe(all))")
        }
        return found[0]
    }

    /// Throws `ExpectationFailed` when a job of type `J` whose arguments satisfy `matching` is
    /// in `porter.jobs`.
    public func requireNotEnqueued<J: Job>(_ type: J.Type, matching: (J) -> Bool = { _ in true }) async throws {
        let found = try await enqueuedJobs(type).filter { matching($0.job) }
        guard found.isEmpty else {
            throw ExpectationFailed("expected no \(J.method) job matching, found \(Self.describe(found))")
        }
    }

    /// Writes `fixture` straight into `porter.jobs` (see `JobFixture`) and returns its id. Needs
    /// a role that may INSERT into porter.jobs: the test database's owner.
    @discardableResult
    public func insertJob(_ fixture: JobFixture) async throws -> Int64 {
        try await pool.query(fixture.insert).single(Int64.self)
    }

    /// Moves job `id`'s times (`run_at`, `enqueued_at`, `started_at`, `ended_at`) back by
    /// `interval`, as if that much time had passed: a job scheduled an hour ahead becomes due, a
    /// finished one old enough to prune. Porter's time-dependent statements compare these
    /// columns with the database's `now()`, so moving the rows is how a test moves the clock.
    public func moveJobBack(_ id: Int64, by interval: Duration) async throws {
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        try await pool.query("""
            UPDATE porter.jobs SET run_at = run_at - make_interval(secs => \(seconds)),
                enqueued_at = enqueued_at - make_interval(secs => \(seconds)),
                started_at = started_at - make_interval(secs => \(seconds)),
                ended_at = ended_at - make_interval(secs => \(seconds))
            WHERE id = \(id)
            """)
    }

    private static func describe<J>(_ jobs: [EnqueuedJob<J>]) -> String {
        jobs.isEmpty ? "none" : jobs.map { "#\($0.id) \($0.record.status.rawValue) \($0.record.args.text)" }.joined(separator: ", ")
    }
}

/// A job found in `porter.jobs`: its row and its decoded arguments.
public struct EnqueuedJob<J: Job>: Sendable {
    /// The row.
    public var record: JobRecord
    /// The arguments, decoded as the worker decodes them.
    public var job: J
    /// The job's id.
    public var id: Int64 { record.id }
}

/// An expectation on the queue that did not hold; the description says what was found.
public struct ExpectationFailed: Error, CustomStringConvertible {
    /// What was expected and what was found.
    public var description: String

    /// An expectation failure that says `description`.
    public init(_ description: String) {
        self.description = description
    }
}
