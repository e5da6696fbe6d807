import Logging
import Porter
import PorterPostgres
import PostgresNIO

extension PostgresConnection {
    /// Enqueues a typed job on this connection, so that it commits or rolls back with the
    /// caller's own rows: call it inside `PostgresClient.withTransaction`. Workers are woken
    /// when the transaction commits (`NOTIFY porter_enqueue`).
    ///
    /// ```swift
    /// let result = try await client.withTransaction { connection in
    ///     try await connection.query("INSERT INTO orders (id, customer) VALUES (\(id), \(customer))", logger: logger)
    ///     return try await connection.enqueue(
    ///         SendConfirmation(orderID: id),
    ///         options: EnqueueOptions(queue: "short", jobID: "confirm-\(id)", deduplicate: true), logger: logger)
    /// }
    /// ```
    ///
    /// It runs `porter.enqueue`, the SQL function Porter's own path runs, so the rules are the
    /// same: the result is `.enqueued(id:)` or, with `deduplicate`,
    /// `.duplicate(jobID:)`; bad options throw the same `PorterError` codes
    /// (`invalidArgument`, `duplicateJob`, `schemaMissing`), with the server's error, and its
    /// SQLSTATE, in `underlying`. Other errors are postgres-nio's own `PSQLError`.
    /// `EnqueueOptions.now` needs a `PorterClient`'s handlers and is refused here.
    ///
    /// With a tracer bootstrapped (`InstrumentationSystem.tracer`), it makes a producer span
    /// under the task's current `ServiceContext` and stores its W3C context with the job, as
    /// `PorterClient.enqueue` does.
    @discardableResult
    public func enqueue<J: Job>(
        _ job: J, options: EnqueueOptions = EnqueueOptions(), logger: Logger
    ) async throws -> EnqueueResult {
        try await enqueue(EnqueueRequest(job, options: options), logger: logger)
    }

    /// Enqueues by method name and JSON arguments on this connection, as
    /// `frappe.enqueue("app.module.fn", ...)`; see ``enqueue(_:options:logger:)``.
    @discardableResult
    public func enqueue(
        method: String, args: PQJSON = PQJSON(text: "{}"), options: EnqueueOptions = EnqueueOptions(), logger: Logger
    ) async throws -> EnqueueResult {
        try await enqueue(EnqueueRequest(method: method, args: args, options: options), logger: logger)
    }

    /// Enqueues one request on this connection; see ``enqueue(_:options:logger:)``.
    @discardableResult
    public func enqueue(_ request: EnqueueRequest, logger: Logger) async throws -> EnqueueResult {
        try Self.refuseNow(request.options)
        try EnqueueTracing.check(CollectionOfOne(request))
        var request = request
        let send = EnqueueTracing.start(&request)
        let id: Int64?
        do {
            id = try await porterQuery(JobQueries.enqueue(request), jobID: request.options.jobID, logger: logger) { row in
                try row.decode(Int64?.self)
            }.first ?? nil
        } catch {
            EnqueueTracing.end(send, error: error)
            throw error
        }
        EnqueueTracing.end(send, ids: [id])
        return PorterClient.result(id: id, request: request)
    }

    /// Enqueues a batch in one statement on this connection (`porter.enqueue_many`, or
    /// `porter.enqueue_batch` when every request has the same method and options), and
    /// returns one result per request, in order. Deduplication applies within the batch too.
    /// The whole batch fails on the first bad request.
    public func enqueueMany(_ requests: [EnqueueRequest], logger: Logger) async throws -> [EnqueueResult] {
        guard !requests.isEmpty else { return [] }
        for request in requests { try Self.refuseNow(request.options) }
        // Requests that share their method and options go as one arguments array, as typed jobs do.
        if let batch = EnqueueBatch(sharing: requests) { return try await enqueueBatch(batch, logger: logger) }
        try EnqueueTracing.check(requests)
        var requests = requests
        let send = EnqueueTracing.start(&requests)
        let ids: [Int64?]
        do {
            ids = try await porterQuery(JobQueries.enqueueMany(requests), jobID: nil, logger: logger) { row in
                try row.decode((Int64, Int64?).self).1
            }
        } catch {
            EnqueueTracing.end(send, error: error)
            throw error
        }
        EnqueueTracing.end(send)
        return zip(ids, requests).map { PorterClient.result(id: $0, request: $1) }
    }

    /// Enqueues typed jobs that share the options, in one statement on this connection
    /// (`porter.enqueue_batch`, as `PorterClient.enqueueMany` runs it): one result per job, in
    /// order. The whole batch fails on the first bad job.
    public func enqueueMany<J: Job>(
        _ jobs: [J], options: EnqueueOptions = EnqueueOptions(), logger: Logger
    ) async throws -> [EnqueueResult] {
        guard !jobs.isEmpty else { return [] }
        try Self.refuseNow(options)
        return try await enqueueBatch(try EnqueueBatch(jobs, options: options), logger: logger)
    }

    /// Sends a batch through porter.enqueue_batch: its producer span and its results in order.
    private func enqueueBatch(_ batch: EnqueueBatch, logger: Logger) async throws -> [EnqueueResult] {
        try EnqueueTracing.check(batch.options)
        var batch = batch
        let send = EnqueueTracing.start(&batch)
        let ids: [Int64?]
        do {
            ids = try await porterQuery(batch.query, jobID: batch.options.jobID, logger: logger) { row in
                try row.decode((Int64, Int64?).self).1
            }
        } catch {
            EnqueueTracing.end(send, error: error)
            throw error
        }
        EnqueueTracing.end(send, ids: ids.count == 1 ? ids : [])
        return batch.results(ids: ids)
    }

    // MARK: -

    /// Runs one of Porter's statements and decodes every row; the server's errors become the
    /// `PorterError`s Porter's own path throws.
    func porterQuery<T>(
        _ query: PQQuery, jobID: String?, logger: Logger, _ decode: (PostgresRow) throws -> T
    ) async throws -> [T] {
        do {
            var values: [T] = []
            for try await row in try await self.query(PostgresQuery(query), logger: logger) {
                values.append(try decode(row))
            }
            return values
        } catch let error as PSQLError {
            guard let serverError = error.serverError else { throw error }
            let translated = PorterError.fromEnqueue(serverError, jobID: jobID)
            // Errors Porter does not type stay postgres-nio's, as the app expects them.
            if translated is PorterError { throw translated }
            throw error
        }
    }

    /// `now` runs the job in the caller with a `PorterClient`'s registered handlers, which a
    /// connection does not have.
    static func refuseNow(_ options: EnqueueOptions) throws {
        guard options.now else { return }
        throw PorterError(
            code: .invalidArgument(parameter: "now"),
            message: "EnqueueOptions.now runs the job inline with a PorterClient's registered handlers; call porter.enqueue(_:options:) on your PorterClient for that, or leave now off to enqueue in this transaction")
    }
}
