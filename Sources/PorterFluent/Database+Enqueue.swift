import FluentKit
import Porter
import PorterPostgres
import PorterPostgresNIO

extension Database {
    /// Enqueues a typed job on this Fluent database's connection, so that inside
    /// `req.db.transaction { db in ... }` it commits or rolls back with the app's own rows.
    /// Workers are woken when the transaction commits.
    ///
    /// ```swift
    /// let result = try await req.db.transaction { db in
    ///     try await order.create(on: db)
    ///     return try await db.enqueue(
    ///         SendConfirmation(orderID: try order.requireID()),
    ///         options: EnqueueOptions(queue: "short", jobID: "confirm-\(try order.requireID())", deduplicate: true))
    /// }
    /// ```
    ///
    /// It runs `porter.enqueue`, as `PorterClient` and `PostgresConnection.enqueue` do: the
    /// result is `.enqueued(id:)` or, with `deduplicate`, `.duplicate(jobID:)`; bad options
    /// throw the same `PorterError` codes with the server's error and SQLSTATE in `underlying`.
    /// On `req.db` outside a transaction it commits on its own. A database that is not Fluent's
    /// PostgreSQL driver's throws `PorterError.Code.invalidArgument(parameter: "database")`;
    /// `EnqueueOptions.now` is refused, as on a `PostgresConnection`. Logs to this database's
    /// logger (the request's, for `req.db`).
    @discardableResult
    public func enqueue<J: Job>(_ job: J, options: EnqueueOptions = EnqueueOptions()) async throws -> EnqueueResult {
        try await enqueue(EnqueueRequest(job, options: options))
    }

    /// Enqueues by method name and JSON arguments on this database's connection; see
    /// `enqueue(_:options:)`.
    @discardableResult
    public func enqueue(
        method: String, args: PQJSON = PQJSON(text: "{}"), options: EnqueueOptions = EnqueueOptions()
    ) async throws -> EnqueueResult {
        try await enqueue(EnqueueRequest(method: method, args: args, options: options))
    }

    /// Enqueues one request on this database's connection; see
    /// `enqueue(_:options:)`.
    @discardableResult
    public func enqueue(_ request: EnqueueRequest) async throws -> EnqueueResult {
        let logger = self.logger
        return try await withPorterConnection { connection in
            try await connection.enqueue(request, logger: logger)
        }
    }

    /// Enqueues a batch in one statement (`porter.enqueue_many`) on this database's
    /// connection, and returns one result per request, in order. The whole batch fails on the
    /// first bad request.
    public func enqueueMany(_ requests: [EnqueueRequest]) async throws -> [EnqueueResult] {
        let logger = self.logger
        return try await withPorterConnection { connection in
            try await connection.enqueueMany(requests, logger: logger)
        }
    }

    /// Enqueues typed jobs that share the options, in one statement on this database's
    /// connection (`porter.enqueue_batch`).
    public func enqueueMany<J: Job>(_ jobs: [J], options: EnqueueOptions = EnqueueOptions()) async throws -> [EnqueueResult] {
        let logger = self.logger
        return try await withPorterConnection { connection in
            try await connection.enqueueMany(jobs, options: options, logger: logger)
        }
    }
}
