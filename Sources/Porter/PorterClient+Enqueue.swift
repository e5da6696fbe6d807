import Foundation
import PorterPostgres
import Tracing

extension PorterClient {
    // MARK: On the caller's connection, inside the caller's transaction

    /// Enqueues a typed job on the caller's connection, so it commits or rolls back with the
    /// caller's own rows. Workers are woken when the transaction commits.
    @discardableResult
    public func enqueue<J: Job>(
        _ job: J, options: EnqueueOptions = EnqueueOptions(), on connection: isolated PQConnection
    ) async throws -> EnqueueResult {
        try await enqueue(EnqueueRequest(job, options: options), on: connection)
    }

    /// Enqueues by method name and JSON arguments, as `frappe.enqueue("app.module.fn", ...)`.
    @discardableResult
    public func enqueue(
        method: String, args: PQJSON = PQJSON(text: "{}"), options: EnqueueOptions = EnqueueOptions(),
        on connection: isolated PQConnection
    ) async throws -> EnqueueResult {
        try await enqueue(EnqueueRequest(method: method, args: args, options: options), on: connection)
    }

    /// Enqueues one request on the caller's connection.
    ///
    /// With a tracer bootstrapped, it makes a short producer span (`send <queue>`) under the
    /// task's current `ServiceContext`, and stores the span's W3C context with the job, unless
    /// `options.traceparent` is given.
    @discardableResult
    public func enqueue(_ request: EnqueueRequest, on connection: isolated PQConnection) async throws -> EnqueueResult {
        if request.options.now { return try await runInline(request) }
        try EnqueueTracing.check(CollectionOfOne(request))
        var request = request
        let send = EnqueueTracing.start(&request, tracer: activeTracer)
        let id: Int64?
        do {
            id = try connection.query(JobQueries.enqueue(request)).singleOptional(Int64.self)
        } catch {
            let translated = PorterError.fromEnqueue(error, jobID: request.options.jobID)
            EnqueueTracing.end(send, error: translated)
            throw translated
        }
        EnqueueTracing.end(send, ids: [id])
        if id != nil { JobMetrics.of(queue: request.options.queue, method: request.method).enqueued.increment() }
        return Self.result(id: id, request: request)
    }

    /// Enqueues a batch in one statement on the caller's connection (`porter.enqueue_many`, or
    /// `porter.enqueue_batch` when every request has the same method and options). Returns one
    /// result per request, in order. Deduplication applies within the batch too. The whole
    /// batch fails on the first bad request.
    public func enqueueMany(_ requests: [EnqueueRequest], on connection: isolated PQConnection) async throws -> [EnqueueResult] {
        guard !requests.isEmpty else { return [] }
        if requests.contains(where: \.options.now) {
            var results: [EnqueueResult] = []
            for request in requests { results.append(try await enqueue(request, on: connection)) }
            return results
        }
        // Requests that share their method and options go as one arguments array, as typed jobs do.
        if let batch = EnqueueBatch(sharing: requests) { return try await enqueueBatch(batch, on: connection) }
        try EnqueueTracing.check(requests)
        var requests = requests
        let send = EnqueueTracing.start(&requests, tracer: activeTracer)
        let rows: PQRows
        do {
            rows = try connection.query(JobQueries.enqueueMany(requests))
        } catch {
            let translated = PorterError.fromEnqueue(error, jobID: nil)
            EnqueueTracing.end(send, error: translated)
            throw translated
        }
        EnqueueTracing.end(send)
        var results: [EnqueueResult] = []
        results.reserveCapacity(requests.count)
        var enqueued: [JobMetricsKey: Int] = [:]
        for (row, request) in zip(rows, requests) {
            let result = Self.result(id: try row.decode(Int64?.self, at: 1), request: request)
            if case .enqueued = result { enqueued[JobMetricsKey(queue: request.options.queue, method: request.method), default: 0] += 1 }
            results.append(result)
        }
        for (key, count) in enqueued { JobMetrics.of(queue: key.queue, method: key.method).enqueued.increment(by: count) }
        return results
    }

    /// Enqueues typed jobs that share the options, in one statement (`porter.enqueue_batch`):
    /// the arguments go as one JSON array and the options once, which costs the database a
    /// little over half of what a request per job costs. One result per job, in order; the
    /// whole batch fails on the first bad job.
    public func enqueueMany<J: Job>(_ jobs: [J], options: EnqueueOptions = EnqueueOptions(), on connection: isolated PQConnection) async throws -> [EnqueueResult] {
        guard !jobs.isEmpty else { return [] }
        if options.now { return try await enqueueMany(try EnqueueRequest.batch(jobs, options: options), on: connection) }
        return try await enqueueBatch(try EnqueueBatch(jobs, options: options), on: connection)
    }

    /// Sends a batch through porter.enqueue_batch: its producer span, its results in order
    /// and its metrics.
    private func enqueueBatch(_ batch: EnqueueBatch, on connection: isolated PQConnection) async throws -> [EnqueueResult] {
        try EnqueueTracing.check(batch.options)
        var batch = batch
        let send = EnqueueTracing.start(&batch, tracer: activeTracer)
        let ids: [Int64?]
        do {
            ids = try connection.query(batch.query).map { try $0.decode(Int64?.self, at: 1) }
        } catch {
            let translated = PorterError.fromEnqueue(error, jobID: batch.options.jobID)
            EnqueueTracing.end(send, error: translated)
            throw translated
        }
        EnqueueTracing.end(send, ids: ids.count == 1 ? ids : [])
        let enqueued = ids.count { $0 != nil }
        if enqueued > 0 { JobMetrics.of(queue: batch.options.queue, method: batch.method).enqueued.increment(by: enqueued) }
        return batch.results(ids: ids)
    }

    // MARK: On Porter's pool, in a transaction of its own

    /// Enqueues a typed job on Porter's pool, committed at once.
    @discardableResult
    public func enqueue<J: Job>(_ job: J, options: EnqueueOptions = EnqueueOptions()) async throws -> EnqueueResult {
        try await enqueue(EnqueueRequest(job, options: options))
    }

    /// Enqueues by method name and JSON arguments on Porter's pool.
    @discardableResult
    public func enqueue(method: String, args: PQJSON = PQJSON(text: "{}"), options: EnqueueOptions = EnqueueOptions()) async throws -> EnqueueResult {
        try await enqueue(EnqueueRequest(method: method, args: args, options: options))
    }

    /// Enqueues one request on Porter's pool.
    @discardableResult
    public func enqueue(_ request: EnqueueRequest) async throws -> EnqueueResult {
        if request.options.now { return try await runInline(request) }
        return try await pool.withConnection { try await self.enqueue(request, on: $0) }
    }

    /// Enqueues a batch in one statement on Porter's pool.
    public func enqueueMany(_ requests: [EnqueueRequest]) async throws -> [EnqueueResult] {
        try await pool.withConnection { try await self.enqueueMany(requests, on: $0) }
    }

    /// Enqueues typed jobs that share the options, in one statement, on Porter's pool.
    public func enqueueMany<J: Job>(_ jobs: [J], options: EnqueueOptions = EnqueueOptions()) async throws -> [EnqueueResult] {
        try await pool.withConnection { try await self.enqueueMany(jobs, options: options, on: $0) }
    }

    // MARK: -

    /// What an enqueue did, from the id `porter.enqueue` returned (NULL: deduplicated).
    package static func result(id: Int64?, request: EnqueueRequest) -> EnqueueResult {
        if let id { return .enqueued(id: id) }
        return .duplicate(jobID: request.options.jobID ?? "")
    }

    /// `now` mode: runs the registered handler in the caller, as Frappe's `now=True` does,
    /// with the same semantics as a worker: the job's own timeout, else its queue's in
    /// `queues`, and its result. Arguments get the same validation as an enqueue, so a test
    /// cannot pass with arguments a real enqueue would refuse. A failure or a timeout is
    /// thrown to the caller.
    private func runInline(_ request: EnqueueRequest) async throws -> EnqueueResult {
        let handler = try registry.requireHandler(for: request.method)
        try await pool.withConnection { connection in
            do {
                try await connection.query(JobQueries.check(request))
            } catch {
                throw PorterError.fromEnqueue(error, jobID: request.options.jobID)
            }
        }
        var context = JobContext(
            id: nil, method: request.method, queue: request.options.queue, attempt: 1, logger: logger, pool: pool)
        context.registry = registry
        context.queues = queues
        let timeout = QueueConfiguration.timeout(ofJob: request.options.timeout, queue: request.options.queue, in: queues)
        let end = await SupervisedHandler.run(
            timeout: .seconds(timeout), cancelGrace: WorkerConfiguration.defaultCancelGrace, control: JobControl(),
            logger: { [context] in context.logger }
        ) { [context] in
            try await handler(request.args, context)
        }
        switch end {
        case .returned(let result):
            return .ranInline(result: result)
        case .threw(let error, _), .connectionLost(let error):
            throw PorterError(code: .jobFailed, message: "\(request.method) failed: \(error)")
        case .timedOut(let seconds):
            throw PorterError(code: .jobFailed, message: "\(request.method) failed: timed out after \(seconds) s")
        case .canceled, .stoppedByShutdown, .lostClaim, .finishedInOwnTransaction, .handedBack:
            throw CancellationError()
        }
    }
}
