/// An error from PostgreSQL or from talking to it.
///
/// Server errors keep every field the server sent (SQLSTATE, message, detail, hint, constraint,
/// column, ...), so callers can match on `sqlState` rather than on message text. The
/// `description` never contains bind values or row data.
public struct PQError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case connectionFailed, connectionClosed, server, protocolViolation, decoding, invalidConfiguration
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Could not open a connection: wrong URL, server down, authentication refused.
        public static let connectionFailed = Code(.connectionFailed)
        /// An open connection was lost, or was used after `close()`.
        public static let connectionClosed = Code(.connectionClosed)
        /// The server answered with an error; see `sqlState`.
        public static let server = Code(.server)
        /// libpq or the server did something this layer did not expect.
        public static let protocolViolation = Code(.protocolViolation)
        /// A column's value could not be decoded into the requested Swift type.
        public static let decoding = Code(.decoding)
        /// A connection string or URL is malformed.
        public static let invalidConfiguration = Code(.invalidConfiguration)

        public var description: String { base.rawValue }

        /// How an error of this kind reads to a person, before its message.
        var summary: String {
            switch base {
            case .connectionFailed: "could not connect to PostgreSQL"
            case .connectionClosed: "the connection to PostgreSQL was lost"
            case .server: "PostgreSQL error"
            case .protocolViolation: "unexpected answer from PostgreSQL"
            case .decoding: "could not decode a value from PostgreSQL"
            case .invalidConfiguration: "invalid connection settings"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// The SQLSTATE, for server errors (e.g. `23505` for a unique violation).
    public var sqlState: SQLState?
    /// The primary message, from the server or from libpq.
    public var message: String
    public var detail: String?
    public var hint: String?
    public var severity: String?
    public var schema: String?
    public var table: String?
    public var column: String?
    public var constraint: String?

    public init(
        code: Code, message: String, sqlState: SQLState? = nil, detail: String? = nil,
        hint: String? = nil, severity: String? = nil, schema: String? = nil, table: String? = nil,
        column: String? = nil, constraint: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.severity = severity
        self.schema = schema
        self.table = table
        self.column = column
        self.constraint = constraint
    }

    /// True when the connection this error came from can no longer be used: it was closed by
    /// the server (`pg_terminate_backend`, restart) or the network. A pool replaces such
    /// connections; a retry on a new connection may succeed.
    public var isConnectionLost: Bool {
        if code == .connectionFailed || code == .connectionClosed { return true }
        guard let sqlState else { return false }
        return sqlState.class == .connectionException || sqlState == .adminShutdown
            || sqlState == .crashShutdown || sqlState == .cannotConnectNow
    }

    /// For a person: what kind of failure, the SQLSTATE, then the server's message, detail and
    /// hint, e.g. `PostgreSQL error [23505]: duplicate key value … DETAIL: … HINT: …`.
    public var description: String {
        var text = code.summary
        if let sqlState { text += " [\(sqlState.rawValue)]" }
        text += ": \(message)"
        if let detail { text += " DETAIL: \(detail)" }
        if let hint { text += " HINT: \(hint)" }
        return text
    }
}

/// A five-character SQLSTATE code, matchable by value or by class.
public struct SQLState: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    /// The two-character class, e.g. `23` (integrity constraint violation).
    public var `class`: Class { Class(rawValue: String(rawValue.prefix(2))) }
    public var description: String { rawValue }

    /// A SQLSTATE class: the first two characters.
    public struct Class: RawRepresentable, Sendable, Hashable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// `08`: connection exception.
        public static let connectionException = Class(rawValue: "08")
        /// `22`: data exception (bad input).
        public static let dataException = Class(rawValue: "22")
        /// `23`: integrity constraint violation.
        public static let integrityConstraintViolation = Class(rawValue: "23")
        /// `40`: transaction rollback (serialization failure, deadlock).
        public static let transactionRollback = Class(rawValue: "40")
        /// `57`: operator intervention (cancel, shutdown).
        public static let operatorIntervention = Class(rawValue: "57")
    }

    public static let uniqueViolation = SQLState("23505")
    public static let invalidSQLStatementName = SQLState("26000")
    public static let duplicatePreparedStatement = SQLState("42P05")
    public static let checkViolation = SQLState("23514")
    public static let notNullViolation = SQLState("23502")
    public static let invalidParameterValue = SQLState("22023")
    public static let nullValueNotAllowed = SQLState("22004")
    public static let invalidTextRepresentation = SQLState("22P02")
    public static let characterNotInRepertoire = SQLState("22021")
    public static let programLimitExceeded = SQLState("54000")
    public static let queryCanceled = SQLState("57014")
    public static let adminShutdown = SQLState("57P01")
    public static let crashShutdown = SQLState("57P02")
    public static let cannotConnectNow = SQLState("57P03")
    public static let serializationFailure = SQLState("40001")
    public static let deadlockDetected = SQLState("40P01")
    public static let undefinedFunction = SQLState("42883")
    public static let undefinedTable = SQLState("42P01")
    public static let raiseException = SQLState("P0001")
}
