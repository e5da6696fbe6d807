import Foundation

/// A Swift type that a column's text value can be decoded into.
public protocol PQDecodable: Sendable {
    /// Decodes the text representation the server sent. SQL NULL never reaches this
    /// initializer: decode an `Optional` to accept NULL.
    init(postgresText text: String) throws
}

/// Thrown by `PQDecodable` initializers; the row decoder adds the column's name.
struct PostgresDecodingFailure: Error {
    var expected: String
}

extension String: PQDecodable {
    public init(postgresText text: String) { self = text }
}

extension Int: PQDecodable {}
extension Int64: PQDecodable {}
extension Int32: PQDecodable {}
extension Int16: PQDecodable {}

extension PQDecodable where Self: FixedWidthInteger {
    /// Integers of every width decode the same way; one too large for the type is an error.
    public init(postgresText text: String) throws {
        guard let value = Self(text) else {
            throw PostgresDecodingFailure(expected: "an integer that fits \(Self.self)")
        }
        self = value
    }
}

extension Bool: PQDecodable {
    public init(postgresText text: String) throws {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw PostgresDecodingFailure(expected: "a boolean")
        }
    }
}

extension Double: PQDecodable {
    public init(postgresText text: String) throws {
        guard let value = Double(text) else { throw PostgresDecodingFailure(expected: "a number") }
        self = value
    }
}

extension UUID: PQDecodable {
    public init(postgresText text: String) throws {
        guard let value = UUID(uuidString: text) else { throw PostgresDecodingFailure(expected: "a uuid") }
        self = value
    }
}

extension Date: PQDecodable {
    /// Parses `timestamptz`, `timestamp` and `date` text in ISO style.
    public init(postgresText text: String) throws {
        guard let value = PQTimestamp.parse(text) else {
            throw PostgresDecodingFailure(expected: "a timestamp")
        }
        self = value
    }
}

extension Data: PQDecodable {
    /// Parses `bytea` in PostgreSQL's hex output format (`\x0a1b…`, the default of
    /// `bytea_output`).
    public init(postgresText text: String) throws {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else {
            throw PostgresDecodingFailure(expected: "bytea in hex format (the session's bytea_output must be 'hex')")
        }
        func nibble(_ byte: UInt8) throws -> UInt8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: throw PostgresDecodingFailure(expected: "bytea in hex format")
            }
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(utf8.count / 2 - 1)
        var index = 2
        while index < utf8.count {
            bytes.append(try nibble(utf8[index]) << 4 | nibble(utf8[index + 1]))
            index += 2
        }
        self = Data(bytes)
    }
}

extension PQJSON: PQDecodable {
    public init(postgresText text: String) { self.init(text: text) }
}

extension Array: PQDecodable where Element: PQDecodable {
    /// Parses a one-dimensional array literal such as `{1,2,NULL}` or `{"a b",c}`.
    /// NULL elements are not representable here; decode `[Element?]` is not supported.
    public init(postgresText text: String) throws {
        guard text.first == "{", text.last == "}" else {
            throw PostgresDecodingFailure(expected: "an array")
        }
        var elements: [Element] = []
        var current = ""
        var quoted = false
        var wasQuoted = false
        var escaped = false
        for character in text.dropFirst().dropLast() {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
                wasQuoted = true
            } else if character == "," && !quoted {
                elements.append(try Self.element(current, wasQuoted: wasQuoted))
                current = ""
                wasQuoted = false
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty || wasQuoted {
            elements.append(try Self.element(current, wasQuoted: wasQuoted))
        }
        self = elements
    }

    private static func element(_ text: String, wasQuoted: Bool) throws -> Element {
        if !wasQuoted && text == "NULL" {
            throw PostgresDecodingFailure(expected: "an array without NULL elements")
        }
        return try Element(postgresText: text)
    }
}
