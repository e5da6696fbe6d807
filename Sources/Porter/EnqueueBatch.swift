import Foundation
import PorterPostgres

/// Typed jobs of one method that share their options, as `porter.enqueue_batch` takes them:
/// the arguments as one JSON array, written by one encoder call, and the options once.
///
/// The typed `enqueueMany` of every Swift path (PorterClient's, postgres-nio's, Fluent's)
/// goes through here. Against a request per job sent as `porter.enqueue_many`'s JSON objects,
/// the database does a little over half the work per row (pgbench, 1,000 jobs a call: 7.4 ms
/// against 12-14) and the Swift side about 1-1.5 µs a job instead of 2 (`porter bench enqueue`).
package struct EnqueueBatch: Sendable {
    /// The method every job runs.
    package let method: String
    /// The jobs' arguments: a JSON array with one object per job, in order.
    package let args: PQJSON
    /// The options every job shares; tracing may fill in `traceparent`.
    package var options: EnqueueOptions
    /// How many jobs.
    package let count: Int

    /// The batch for `jobs`; throws what `JSONEncoder` throws for a job it cannot write.
    package init<J: Job>(_ jobs: [J], options: EnqueueOptions) throws {
        self.method = J.method
        self.args = try PQJSON(encoding: jobs)
        self.options = options
        self.count = jobs.count
    }

    /// The batch for arguments already written as JSON, one object per job.
    package init(method: String, args: [PQJSON], options: EnqueueOptions) {
        self.method = method
        self.args = PQJSON(text: "[" + args.map(\.text).joined(separator: ",") + "]")
        self.options = options
        self.count = args.count
    }

    /// The batch for requests that share their method and options, so that an untyped
    /// `enqueueMany` of such requests gets porter.enqueue_batch too. Nil when they do not, or
    /// when any request's arguments could be JSON `null` (text without a `{`), which
    /// porter.enqueue_many reads as `{}` and porter.enqueue_batch refuses, as porter.enqueue
    /// does: those go to porter.enqueue_many as they did. (Other text without a `{` is not an
    /// object, which both refuse alike.)
    package init?(sharing requests: [EnqueueRequest]) {
        guard let first = requests.first else { return nil }
        for request in requests {
            guard request.method == first.method, request.options == first.options,
                request.args.text.utf8.contains(UInt8(ascii: "{"))
            else { return nil }
        }
        self.init(method: first.method, args: requests.map(\.args), options: first.options)
    }

    /// The statement: porter.enqueue_batch, one row (ord, id) per job in order.
    package var query: PQQuery { JobQueries.enqueueBatch(self) }

    /// The results, from the ids the statement returned in order (NULL: deduplicated). A
    /// batch with a job_id shares it, so every duplicate names it.
    package func results(ids: [Int64?]) -> [EnqueueResult] {
        ids.map { id in id.map { .enqueued(id: $0) } ?? .duplicate(jobID: options.jobID ?? "") }
    }
}
