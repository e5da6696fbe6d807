import Logging

/// A fixed-size pool of connections that replaces connections the server dropped.
///
/// A connection leased from the pool is checked first without blocking: one the server ended
/// (`pg_terminate_backend`, a restart) is closed and replaced, so the caller's statement runs
/// on a live connection. A connection returned broken is dropped and its slot reopened on
/// demand. A connection returned inside a transaction is rolled back first.
public actor PQPool {
    /// Where the pool's connections go.
    public nonisolated let configuration: PQConfiguration
    /// The most connections open at once. Default: 10.
    public nonisolated let maximumConnections: Int
    private let logger: Logger

    private var idle: [PQConnection] = []
    /// Connections open, leased or being opened; never above `maximumConnections`.
    private var openCount = 0
    /// Tasks waiting for a connection, first come first served. A waiter resumed with `nil`
    /// owns a free slot and opens its own connection; a cancelled one leaves the line.
    private var waiters: [(token: Int, continuation: CheckedContinuation<PQConnection?, any Error>)] = []
    private var nextWaiter = 0
    private var isClosed = false

    /// A pool of up to `maximumConnections` (default 10) connections to `configuration`,
    /// opened as statements need them and kept for the next one.
    public init(
        _ configuration: PQConfiguration,
        maximumConnections: Int = 10,
        logger: Logger = Logger(label: "porter.postgres")
    ) {
        precondition(maximumConnections >= 1, "a pool needs at least one connection")
        self.configuration = configuration
        self.maximumConnections = maximumConnections
        self.logger = logger
    }

    /// Leases a connection for the duration of `body`.
    @discardableResult
    public nonisolated func withConnection<T: Sendable>(
        _ body: (PQConnection) async throws -> T
    ) async throws -> T {
        let connection = try await lease()
        do {
            let value = try await body(connection)
            await release(connection)
            return value
        } catch {
            await release(connection)
            throw error
        }
    }

    /// Runs `body` in a transaction on a leased connection.
    @discardableResult
    public nonisolated func withTransaction<T: Sendable>(
        _ body: @Sendable (isolated PQConnection) async throws -> T
    ) async throws -> T {
        let connection = try await lease()
        do {
            let value = try await connection.withTransaction(body)
            await release(connection)
            return value
        } catch {
            await release(connection)
            throw error
        }
    }

    /// Runs one statement on a leased connection.
    ///
    /// When the server answers that it ended the session before running the statement
    /// (SQLSTATE 57P01–57P03), the statement did not run, so it is tried once more on a new
    /// connection. A connection that breaks mid-statement is not retried: the statement may
    /// have committed.
    ///
    /// Cancelling the calling task cancels the statement on the server (`PQcancel`), so a
    /// statement stuck behind a lock does not outlive the task that wanted it.
    @discardableResult
    public nonisolated func query(_ query: PQQuery) async throws -> PQRows {
        do {
            return try await withConnection { connection in
                try await withTaskCancellationHandler {
                    try await connection.query(query)
                } onCancel: {
                    connection.cancelRunningStatement()
                }
            }
        } catch let error as PQError
            where error.sqlState == .adminShutdown || error.sqlState == .crashShutdown
            || error.sqlState == .cannotConnectNow
        {
            logger.debug("retrying a statement the server refused while ending its session", metadata: ["postgres.sqlstate": "\(error.sqlState?.rawValue ?? "")"])
            return try await withConnection { try await $0.query(query) }
        }
    }

    /// Closes idle connections and refuses new leases; leased ones close when returned.
    public func close() async {
        isClosed = true
        let connections = idle
        idle.removeAll()
        openCount -= connections.count
        for connection in connections { await connection.close() }
        let pending = waiters
        waiters.removeAll()
        for waiter in pending {
            waiter.continuation.resume(throwing: PQError(code: .connectionClosed, message: "the pool is closed"))
        }
    }

    /// How many connections are open or being opened, and how many of them are idle.
    public var stats: (open: Int, idle: Int) { (openCount, idle.count) }

    // MARK: - Leasing

    private func lease() async throws -> PQConnection {
        while true {
            guard !isClosed else {
                throw PQError(code: .connectionClosed, message: "the pool is closed")
            }
            while let connection = idle.popLast() {
                if await connection.isHealthyAndIdle() { return connection }
                logger.debug("replacing a pooled connection the server closed")
                openCount -= 1
                await connection.close()
            }
            if openCount < maximumConnections {
                return try await openConnection()
            }
            if let connection = try await waitForConnection() {
                return connection
            }
            // Resumed with nil: a slot was freed for us; `openCount` already counts it.
            openCount -= 1
        }
    }

    /// Waits in line for a connection (or a free slot, `nil`). Cancelling the waiting task
    /// takes it out of the line with `CancellationError`, so a job stopped while the pool is
    /// exhausted ends at once instead of when a connection comes free.
    private func waitForConnection() async throws -> PQConnection? {
        nextWaiter += 1
        let token = nextWaiter
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters.append((token, continuation))
                }
            }
        } onCancel: {
            Task { await self.leaveLine(token) }
        }
    }

    private func leaveLine(_ token: Int) {
        guard let index = waiters.firstIndex(where: { $0.token == token }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: CancellationError())
    }

    private func openConnection() async throws -> PQConnection {
        openCount += 1
        do {
            return try await PQConnection.connect(configuration, logger: logger)
        } catch {
            openCount -= 1
            if !waiters.isEmpty {
                // Let a waiter try to open the slot this attempt gave up.
                openCount += 1
                waiters.removeFirst().continuation.resume(returning: nil)
            }
            throw error
        }
    }

    private func release(_ connection: PQConnection) async {
        let healthy = await connection.prepareForReuse()
        if isClosed || !healthy {
            openCount -= 1
            await connection.close()
            if !isClosed && !waiters.isEmpty {
                openCount += 1
                waiters.removeFirst().continuation.resume(returning: nil)
            }
            return
        }
        if !waiters.isEmpty {
            waiters.removeFirst().continuation.resume(returning: connection)
        } else {
            idle.append(connection)
        }
    }
}
