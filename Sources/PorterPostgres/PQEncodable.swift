import Foundation

/// A Swift value that can be sent to PostgreSQL as a bind parameter.
///
/// Porter talks to the server in the text format: every parameter is sent as its text
/// representation and cast by the server to the parameter's type. `nil` is SQL NULL.
public protocol PQEncodable: Sendable {
    /// The value's text representation, or `nil` for SQL NULL.
    var postgresText: String? { get }
}

extension String: PQEncodable {
    public var postgresText: String? { self }
}

extension Substring: PQEncodable {
    public var postgresText: String? { String(self) }
}

extension Int: PQEncodable {
    public var postgresText: String? { String(self) }
}

extension Int64: PQEncodable {
    public var postgresText: String? { String(self) }
}

extension Int32: PQEncodable {
    public var postgresText: String? { String(self) }
}

extension Int16: PQEncodable {
    public var postgresText: String? { String(self) }
}

extension Bool: PQEncodable {
    public var postgresText: String? { self ? "true" : "false" }
}

extension Double: PQEncodable {
    public var postgresText: String? {
        if isNaN { return "NaN" }
        if isInfinite { return self > 0 ? "Infinity" : "-Infinity" }
        return "\(self)"
    }
}

extension UUID: PQEncodable {
    public var postgresText: String? { uuidString }
}

extension Date: PQEncodable {
    /// ISO 8601 in UTC with microseconds, which `timestamptz` parses exactly.
    public var postgresText: String? { PQTimestamp.format(self) }
}

extension Data: PQEncodable {
    /// `bytea` in hex format.
    public var postgresText: String? {
        let hex = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        bytes.reserveCapacity(2 + count * 2)
        for byte in self {
            bytes.append(hex[Int(byte >> 4)])
            bytes.append(hex[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Optional: PQEncodable where Wrapped: PQEncodable {
    public var postgresText: String? { self.flatMap { $0.postgresText } }
}

extension Array: PQEncodable where Element: PQEncodable {
    /// A one-dimensional array literal, e.g. `{"a","b",NULL}`. Cast it on the server: `$1::text[]`.
    public var postgresText: String? {
        var text = "{"
        for (index, element) in enumerated() {
            if index > 0 { text += "," }
            guard let value = element.postgresText else {
                text += "NULL"
                continue
            }
            text += "\""
            for character in value {
                if character == "\"" || character == "\\" { text += "\\" }
                text.append(character)
            }
            text += "\""
        }
        return text + "}"
    }
}

/// A JSON document sent or received as text, for `json` and `jsonb` columns.
///
/// Porter does not parse JSON it only passes through; decode it with `decode(_:)` when you
/// need its contents.
///
/// Every Swift value Porter turns into JSON, and every JSON it turns back into Swift (a job's
/// arguments and result, a document method's keyword arguments, realtime messages, `now`
/// runs), goes through ``makeEncoder()`` and ``makeDecoder()``, so what one process writes
/// any other reads back as it was. The text on the wire, for clients in other languages:
///
/// | Swift | JSON |
/// |---|---|
/// | `Date` | a string, ISO 8601 in UTC with milliseconds: `"2026-12-01T10:00:00.123Z"` |
/// | `Data` | a base64 string: `"AAEC/v8="` |
/// | `Decimal` | a number with its digits as they are: `12345.6789` (`jsonb` keeps them exactly) |
/// | `UUID` | a string, uppercase when written: `"0F5E3D2C-1B0A-4987-8654-3210FEDCBA98"` |
/// | `URL` | its absolute string, slashes unescaped: `"https://example.com/a"` |
/// | `nil` | the key is left out |
///
/// Object keys are sorted, so equal values give equal text. A `Date` is read from an ISO 8601
/// string with any fraction of a second or none, in UTC (`Z`) or with an offset (`+02:00`): what
/// Porter wrote before it kept milliseconds, JavaScript's `toISOString()`, and PostgreSQL's
/// `to_jsonb(timestamptz)` all read. In SQL, `(args->>'at')::timestamptz` reads Porter's.
public struct PQJSON: PQEncodable, Hashable, CustomStringConvertible {
    /// The JSON text.
    public var text: String

    /// Wraps JSON text as it is. The server checks it when it is cast to `jsonb`.
    public init(text: String) { self.text = text }

    /// Encodes a value, by default with ``makeEncoder()``, Porter's one JSON configuration.
    public init(encoding value: some Encodable, encoder: JSONEncoder = PQJSON.makeEncoder()) throws {
        let data = try encoder.encode(value)
        self.text = String(decoding: data, as: UTF8.self)
    }

    /// Decodes the JSON text into `type`, by default with ``makeDecoder()``, which reads what
    /// ``makeEncoder()`` writes.
    public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = PQJSON.makeDecoder()) throws -> T {
        try decoder.decode(type, from: Data(text.utf8))
    }

    public var postgresText: String? { text }
    /// The JSON text.
    public var description: String { text }

    /// A new encoder with Porter's JSON configuration: sorted keys, slashes unescaped, dates
    /// as ISO 8601 strings in UTC with milliseconds (`2026-12-01T10:00:00.123Z`, rounded to
    /// the nearest millisecond). Other types as `JSONEncoder` writes them.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // `.iso8601` drops the fraction of a second; milliseconds are what every language's
        // ISO 8601 reader takes, JavaScript's included.
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(PQTimestamp.format(date, fractionDigits: 3))
        }
        return encoder
    }

    /// A new decoder that reads what ``makeEncoder()`` writes. Dates: ISO 8601 strings with any
    /// fraction of a second or none, and `Z` or an offset, so dates Porter wrote before it kept
    /// milliseconds, and those other clients or `to_jsonb(timestamptz)` write, read too.
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        // The default reads a date as a number of seconds since 2001: never what Porter wrote.
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            guard let text = try? container.decode(String.self), let date = PQTimestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "expected a date as an ISO 8601 string such as \"2026-12-01T10:00:00.123Z\" (any fraction of a second, Z or an offset such as +02:00); write dates with PQJSON.makeEncoder() or in that form")
            }
            return date
        }
        return decoder
    }

    /// The encoder Porter uses by default.
    @available(*, deprecated, renamed: "makeEncoder()")
    public static var defaultEncoder: JSONEncoder { makeEncoder() }
}
