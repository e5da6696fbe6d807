/// `sql:schema.function`, checked against the schemas (`sql_schemas`) and functions
/// (`sql_functions`) the config allows. Whether its owner is trusted (`sql_owners`) is
/// checked when the job runs, in its transaction (`SQLFunctionOwner`).
///
/// Names are compared byte for byte, as PostgreSQL compares identifiers. Swift's `==` on
/// strings is Unicode canonical equivalence, under which `sql:\u{212A}app.f` (KELVIN SIGN)
/// equals `Kapp.f`: it passed a check for `Kapp` and ran a function of another schema. A name
/// longer than PostgreSQL keeps is refused, since PostgreSQL would cut it to a name that may
/// belong to something else.
struct SQLJobMethod: Sendable {
    static let prefix = "sql:"
    /// The longest identifier PostgreSQL keeps (NAMEDATALEN - 1); it cuts longer ones to this.
    static let maxIdentifierBytes = 63

    var schema: String
    var function: String

    init(_ method: String, schemas: Set<String>, functions: Set<String> = []) throws {
        guard let (schema, function) = Self.split(String(method.dropFirst(Self.prefix.count))) else {
            throw PorterError(
                code: .invalidArgument(parameter: "method"),
                message: "\(method) is not of the form sql:schema.function")
        }
        guard schema.utf8.count <= Self.maxIdentifierBytes, function.utf8.count <= Self.maxIdentifierBytes else {
            throw PorterError(
                code: .invalidArgument(parameter: "method"),
                message: "\(method) names an identifier longer than \(Self.maxIdentifierBytes) bytes, which PostgreSQL would cut to another name")
        }
        self.schema = schema
        self.function = function
        let schemaBytes = Array(schema.utf8)
        let functionBytes = Array("\(schema).\(function)".utf8)
        guard schemas.contains(where: { Array($0.utf8) == schemaBytes })
            || functions.contains(where: { Array($0.utf8) == functionBytes })
        else {
            throw PorterError(
                code: .invalidArgument(parameter: "method"),
                message: "schema \(schema) is not allowed for sql: jobs; add it to \"sql_schemas\" in the config, e.g. {\"sql_schemas\": [\"\(schema)\"]}, or the function alone to \"sql_functions\", e.g. {\"sql_functions\": [\"\(schema).\(function)\"]}")
        }
    }

    /// `schema.function(jsonb)`, the one function the job may call, as SQL would name it:
    /// a name that is not plain lower case is double-quoted.
    var signature: String { "\(Self.quoted(schema)).\(Self.quoted(function))(jsonb)" }

    /// `name` as an SQL identifier: as is when lower-case letters, digits and underscores
    /// make it, else double-quoted.
    static func quoted(_ name: String) -> String {
        let plain = name.utf8.first.map { $0 == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) } == true
            && name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        return plain ? name : "\"" + name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }

    /// `schema.function` split at its first dot, or nil when either part is empty.
    static func split(_ name: String) -> (schema: String, function: String)? {
        let parts = name.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }
}
