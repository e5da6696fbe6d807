import Foundation

/// A SQL statement with its bind parameters.
///
/// Write it as a string with interpolations; each interpolated value becomes a `$n` parameter,
/// never text spliced into the SQL, so injection-safe code is the easy path:
///
/// ```swift
/// let rows = try await connection.query("SELECT id FROM porter.jobs WHERE queue = \(queue) LIMIT \(limit)")
/// ```
public struct PQQuery: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The SQL text, with `$1`, `$2`, ... placeholders.
    public var sql: String
    /// The parameters' text values, `nil` for NULL, in placeholder order.
    public var binds: [String?]
    /// Run as a named prepared statement: parsed and planned once per connection, then only
    /// bound and executed. For statements a process runs many times; see `prepared()`.
    public var isPrepared = false

    /// A statement with explicit `$n` placeholders and their values.
    public init(unsafeSQL sql: String, binds: [any PQEncodable] = []) {
        self.sql = sql
        self.binds = binds.map { $0.postgresText }
    }

    /// A statement with no parameters.
    public init(stringLiteral value: String) {
        self.sql = value
        self.binds = []
    }

    /// A statement whose interpolated values became `$n` parameters.
    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.binds = stringInterpolation.binds
    }

    /// This statement as a prepared one, for a hot path: each connection parses and plans it
    /// once and then executes it by name, saving both on every later run. Not for use behind
    /// PgBouncer's transaction pooling, where the next transaction may run on another session.
    public func prepared() -> PQQuery {
        var query = self
        query.isPrepared = true
        return query
    }

    /// The SQL text only; bind values are never printed.
    public var description: String { sql }

    /// Builds a statement from a string with interpolations: literal text stays SQL, each
    /// interpolated value becomes the next `$n` parameter.
    public struct StringInterpolation: StringInterpolationProtocol {
        var sql: String
        var binds: [String?]

        /// Starts an empty statement, with room for the literal text and the parameters.
        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            binds = []
            binds.reserveCapacity(interpolationCount)
        }

        /// Appends SQL text as it is.
        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// A value: becomes the next `$n` parameter.
        public mutating func appendInterpolation(_ value: some PQEncodable) {
            binds.append(value.postgresText)
            sql += "$\(binds.count)"
        }

        /// An optional value: NULL when `nil`.
        public mutating func appendInterpolation(_ value: (some PQEncodable)?) {
            binds.append(value?.postgresText)
            sql += "$\(binds.count)"
        }

        /// An identifier (schema, table, column, channel), double-quoted and escaped.
        public mutating func appendInterpolation(identifier: String) {
            sql += PQQuery.quoteIdentifier(identifier)
        }

        /// Trusted SQL text spliced in as it is: use only for fragments your code owns.
        public mutating func appendInterpolation(unsafeRaw text: String) {
            sql += text
        }
    }

    /// Double-quotes an identifier, doubling any quote inside it.
    public static func quoteIdentifier(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
