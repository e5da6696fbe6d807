import CLibPQ
import Foundation
import Logging

/// One connection to PostgreSQL, over libpq.
///
/// The connection is an actor whose executor is a dedicated thread, so libpq's blocking calls
/// never run on Swift's cooperative pool. Inside `withTransaction` the body runs on that thread
/// too, and its statements run without a hop each.
///
/// A connection runs one statement at a time and is meant for one task at a time: share it
/// through a `PQPool`, not by handing it to several tasks.
public actor PQConnection {
    private let thread: ConnectionThread
    private var handle: OpaquePointer?
    /// The names of the statements prepared on this session (`PreparedStatementName`).
    private var preparedStatements: Set<String> = []
    private let notices: NoticeLogger
    private let canceller = Canceller()

    /// The logger that receives server notices and connection events.
    public nonisolated let logger: Logger
    /// Where this connection goes.
    public nonisolated let configuration: PQConfiguration
    /// The server process serving this connection (`pg_backend_pid()`), 0 when closed.
    public private(set) var backendPID: Int32 = 0

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        thread.asUnownedSerialExecutor()
    }

    private init(configuration: PQConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.notices = NoticeLogger(logger: logger)
        self.thread = ConnectionThread(name: "porter-pg")
    }

    /// Opens a connection. Throws `PQError` with code `.connectionFailed` when the server
    /// cannot be reached or refuses the login.
    public static func connect(
        _ configuration: PQConfiguration,
        logger: Logger = Logger(label: "porter.postgres")
    ) async throws -> PQConnection {
        let connection = PQConnection(configuration: configuration, logger: logger)
        try await connection.open()
        return connection
    }

    isolated deinit {
        canceller.set(nil)
        if let handle { PQfinish(handle) }
        thread.stop()
    }

    private func open() throws {
        let (keywords, values) = configuration.connectParameters
        let handle = withCStringArray(keywords) { keywords in
            withCStringArray(values) { values in
                PQconnectdbParams(keywords, values, 1)
            }
        }
        guard let handle else {
            throw PQError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(handle)).trimmingTrailingNewlines
            PQfinish(handle)
            throw PQError(
                code: .connectionFailed, message: message,
                hint: "check the database URL (--database-url, PORTER_DATABASE_URL, DATABASE_URL or PG* variables) and that the server is running")
        }
        self.handle = handle
        PQsetNoticeReceiver(handle, noticeReceiver, Unmanaged.passUnretained(notices).toOpaque())
        // Timestamps come back in UTC and ISO style, which `Date` decoding relies on.
        try execute("SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO, MDY'")
        canceller.set(PQgetCancel(handle))
        backendPID = PQbackendPID(handle)
    }

    /// Closes the connection. Later statements throw `.connectionClosed`.
    public func close() {
        canceller.set(nil)
        if let handle { PQfinish(handle) }
        handle = nil
        backendPID = 0
    }

    /// Whether the connection is closed or was lost.
    /// A connection option as libpq uses it on this connection (`PQconninfo`), e.g.
    /// `keepalives_idle`; nil when unset or closed.
    func option(_ keyword: String) -> String? {
        guard let handle, let options = PQconninfo(handle) else { return nil }
        defer { PQconninfoFree(options) }
        return PQConfiguration.settings(options).first { $0.keyword == keyword }?.value
    }

    public var isClosed: Bool {
        guard let handle else { return true }
        return PQstatus(handle) != CONNECTION_OK
    }

    /// Whether a transaction is open (or failed and awaiting ROLLBACK) on this connection.
    public var isInTransaction: Bool {
        guard let handle else { return false }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// Runs one statement with its binds and returns its rows.
    @discardableResult
    public func query(_ query: PQQuery) throws -> PQRows {
        let handle = try openHandle()
        try Self.refuseNULs(in: query.binds)
        if query.isPrepared { return try runPrepared(query, handle: handle) }
        let result = query.sql.withCString { sql in
            withOptionalCStringArray(query.binds) { values in
                PQexecParams(handle, sql, Int32(query.binds.count), nil, values, nil, nil, 0)
            }
        }
        return try rows(from: result, handle: handle)
    }

    /// libpq takes each parameter as a C string, so a NUL character would silently cut the value
    /// short (a method `app\0x` would be stored as `app`), and PostgreSQL's text cannot hold one
    /// anyway. Such a parameter is refused before sending, with the SQLSTATE the server gives
    /// for a NUL in text.
    private static func refuseNULs(in binds: [String?]) throws {
        for (index, bind) in binds.enumerated() {
            guard var bind else { continue }
            let hasNUL = bind.withUTF8 { $0.contains(0) }
            guard hasNUL else { continue }
            throw PQError(
                code: .server,
                message: "parameter $\(index + 1) contains a NUL character (0x00), which PostgreSQL text cannot hold; it was not sent",
                sqlState: .characterNotInRepertoire,
                hint: "remove the NUL, or send binary data as bytea")
        }
    }

    /// Runs a `prepared()` query: prepares it the first time this connection sees its SQL,
    /// under a name made from the SQL itself (`PreparedStatementName`), then executes it by name.
    ///
    /// The name comes from the text, not from a counter, so that two clients sharing one server
    /// session (behind a pooler such as PgBouncer in transaction mode) can never run each other's
    /// statement: one name is always one SQL text. On a session of its own, a connection meets
    /// `26000` only after a `DEALLOCATE` or `DISCARD`, and prepares the statement again. Two
    /// answers it cannot get on a session of its own are reported as they are, with a hint:
    /// `42P05` when preparing a name it never prepared, and `26000` just after preparing it.
    private func runPrepared(_ query: PQQuery, handle: OpaquePointer) throws -> PQRows {
        let name = PreparedStatementName.of(query.sql)
        var justPrepared = false
        if !preparedStatements.contains(name) {
            // A process prepares a handful of hot statements; more means a caller prepares
            // ad-hoc SQL, so start over rather than grow without bound.
            if preparedStatements.count >= 64 {
                _ = try execute("DEALLOCATE ALL")
                preparedStatements.removeAll()
            }
            let result = query.sql.withCString { sql in PQprepare(handle, name, sql, Int32(query.binds.count), nil) }
            do {
                _ = try rows(from: result, handle: handle)
            } catch var error as PQError where error.sqlState == .duplicatePreparedStatement {
                error.hint = Self.sharedSessionHint
                throw error
            }
            preparedStatements.insert(name)
            justPrepared = true
        }
        let result = withOptionalCStringArray(query.binds) { values in
            PQexecPrepared(handle, name, Int32(query.binds.count), values, nil, nil, 0)
        }
        do {
            return try rows(from: result, handle: handle)
        } catch var error as PQError where error.sqlState == .invalidSQLStatementName {
            preparedStatements.remove(name)
            if justPrepared {
                error.hint = Self.sharedSessionHint
                throw error
            }
            // Someone ran DEALLOCATE or DISCARD on this session: prepare it again, unless the
            // failure has aborted a transaction.
            if isInTransaction { throw error }
            return try runPrepared(query, handle: handle)
        }
    }

    /// Said with the prepared-statement errors that only a shared server session produces.
    static let sharedSessionHint =
        "this connection's server session is shared with other clients, as behind PgBouncer in transaction pooling mode, where a statement prepared in one transaction may be missing in the next; do not use prepared statements there (porter worker --poll-only, config poll_only: true), or use PgBouncer 1.21 or later with max_prepared_statements set"

    /// Runs one or more statements without binds (the simple query protocol), e.g. a migration
    /// file. Returns the last statement's rows.
    @discardableResult
    public func execute(_ sql: String) throws -> PQRows {
        let handle = try openHandle()
        return try rows(from: PQexec(handle, sql), handle: handle)
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    ///
    /// The body runs isolated to this connection, on its thread, so call `query` inside it
    /// without `await`. Cancelling the task cancels the statement in progress on the server.
    @discardableResult
    public func withTransaction<T: Sendable>(
        _ body: @Sendable (isolated PQConnection) async throws -> T
    ) async throws -> T {
        try await withTaskCancellationHandler {
            try execute("BEGIN")
            let value: T
            do {
                value = try await body(self)
            } catch {
                rollbackIfOpen()
                throw error
            }
            let tag = try execute("COMMIT").commandTag
            // COMMIT of a transaction in which a statement failed rolls back and says so only in its tag.
            guard tag == "COMMIT" else {
                throw PQError(
                    code: .server,
                    message: "the transaction was rolled back at COMMIT because a statement in it had failed",
                    sqlState: SQLState("25P02"),
                    hint: "a caught error inside withTransaction still aborts the transaction; rethrow it or use a savepoint")
            }
            return value
        } onCancel: { [canceller] in
            canceller.cancel()
        }
    }

    /// Rolls back an open or failed transaction; does nothing when none is open.
    public func rollbackIfOpen() {
        guard isInTransaction, let handle else { return }
        if let result = PQexec(handle, "ROLLBACK") { PQclear(result) }
    }

    /// Sets the function that receives this connection's notices (NOTICE, WARNING, …) as the
    /// server sends them, or clears it with `nil`. It runs on the connection's thread in the
    /// middle of a statement, so it must return quickly (hand the notice on, e.g. to an
    /// `AsyncStream`). Notices are logged as well, handler or not. Clear it before the
    /// connection goes back to a pool.
    public func setNoticeHandler(_ handler: (@Sendable (PQNotice) -> Void)?) {
        notices.setHandler(handler)
    }

    /// Asks the server to cancel the statement running on this connection, from any thread.
    public nonisolated func cancelRunningStatement() {
        canceller.cancel()
    }

    /// Readies a connection returned to a pool: rolls back a transaction left open, then
    /// reports whether the connection can be reused. One hop to the connection's thread.
    public func prepareForReuse() -> Bool {
        rollbackIfOpen()
        notices.setHandler(nil)
        return isHealthyAndIdle()
    }

    /// Checks, without blocking, that the connection is still usable and idle.
    ///
    /// When the server ends a session (`pg_terminate_backend`, restart) it sends an error and
    /// closes the socket, which shows as input on an idle connection. Reading it marks the
    /// connection bad, so a pool can replace it before a statement fails on it.
    public func isHealthyAndIdle() -> Bool {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return false }
        // The error message and the end of the stream may arrive in separate reads.
        var reads = 0
        while reads < 4, SocketWait.isReadable(PQsocket(handle), timeoutMilliseconds: 0) {
            reads += 1
            if PQconsumeInput(handle) == 0 || PQstatus(handle) != CONNECTION_OK { return false }
            // Parsing the input hands an error sent to an idle session to the notice receiver,
            // and discards stray notifications on a non-listening connection.
            while let notification = PQnotifies(handle) { PQfreemem(notification) }
        }
        // The server says FATAL before it closes the socket; the close itself may come later.
        if notices.serverEndedSession { return false }
        return PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    // MARK: - libpq plumbing

    private func openHandle() throws -> OpaquePointer {
        guard let handle else {
            throw PQError(code: .connectionClosed, message: "the connection is closed")
        }
        return handle
    }

    private func rows(from result: OpaquePointer?, handle: OpaquePointer) throws -> PQRows {
        guard let result else {
            throw lostConnectionError(handle)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PQResultReader.rows(from: result)
        default:
            var error = PQResultReader.error(from: result)
            if PQstatus(handle) != CONNECTION_OK { error.code = .connectionClosed }
            throw error
        }
    }

    private func lostConnectionError(_ handle: OpaquePointer) -> PQError {
        PQError(
            code: PQstatus(handle) == CONNECTION_OK ? .protocolViolation : .connectionClosed,
            message: String(cString: PQerrorMessage(handle)).trimmingTrailingNewlines)
    }
}
