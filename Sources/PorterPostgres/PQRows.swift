/// The rows a statement returned, copied out of libpq's result so no pointer escapes.
public struct PQRows: Sendable, RandomAccessCollection {
    /// The column names, in order.
    public let columns: [String]
    /// The command tag, e.g. `INSERT 0 1` or `UPDATE 3`.
    public let commandTag: String
    private let columnIndex: [String: Int]
    private let cells: [String?]

    init(columns: [String], cells: [String?], commandTag: String) {
        self.columns = columns
        self.cells = cells
        self.commandTag = commandTag
        var index: [String: Int] = [:]
        for (position, name) in columns.enumerated() where index[name] == nil {
            index[name] = position
        }
        self.columnIndex = index
    }

    /// The first row's position: 0.
    public var startIndex: Int { 0 }
    /// One past the last row's position: the number of rows.
    public var endIndex: Int { columns.isEmpty ? 0 : cells.count / columns.count }

    /// The row at `position`, from 0.
    public subscript(position: Int) -> PQRow {
        let width = columns.count
        return PQRow(
            columns: columns, columnIndex: columnIndex,
            values: cells[(position * width)..<((position + 1) * width)])
    }

    /// The number of rows the statement affected, from the command tag (`UPDATE 3` gives 3).
    public var affectedRows: Int {
        Int(commandTag.split(separator: " ").last ?? "") ?? 0
    }

    /// The only row's only column, decoded; throws when there is no row.
    public func single<T: PQDecodable>(_ type: T.Type = T.self) throws -> T {
        guard let row = first else {
            throw PQError(code: .decoding, message: "expected one row, got none")
        }
        return try row.decode(type, at: 0)
    }

    /// The first row's first column, or `nil` when there is no row or it is NULL.
    public func singleOptional<T: PQDecodable>(_ type: T.Type = T.self) throws -> T? {
        guard let row = first else { return nil }
        return try row.decode(T?.self, at: 0)
    }
}

/// One row of a result. Decode columns by position, by name, or all at once as a tuple.
public struct PQRow: Sendable {
    let columns: [String]
    let columnIndex: [String: Int]
    let values: ArraySlice<String?>

    /// The raw text of a column, `nil` for NULL.
    public subscript(position: Int) -> String? {
        values[values.startIndex + position]
    }

    /// The raw text of a named column, `nil` for NULL or an unknown name.
    public subscript(column: String) -> String? {
        guard let position = columnIndex[column] else { return nil }
        return self[position]
    }

    /// Decodes the column at `position`. NULL throws unless `T` is an `Optional`.
    public func decode<T: PQDecodable>(_ type: T.Type = T.self, at position: Int) throws -> T {
        guard position < columns.count else {
            throw PQError(code: .decoding, message: "no column at position \(position); the row has \(columns.count)")
        }
        return try decodeValue(type, text: self[position], column: columns[position])
    }

    /// Decodes the optional column at `position`: NULL gives `nil`.
    public func decode<T: PQDecodable>(_ type: T?.Type, at position: Int) throws -> T? {
        guard position < columns.count else {
            throw PQError(code: .decoding, message: "no column at position \(position); the row has \(columns.count)")
        }
        guard let text = self[position] else { return nil }
        return try decodeValue(T.self, text: text, column: columns[position])
    }

    /// Decodes the named column. NULL throws unless `T` is an `Optional`.
    public func decode<T: PQDecodable>(_ type: T.Type = T.self, column: String) throws -> T {
        guard let position = columnIndex[column] else {
            throw PQError(code: .decoding, message: "no column named \(column); the row has \(columns)")
        }
        return try decode(type, at: position)
    }

    /// Decodes the named optional column: NULL gives `nil`.
    public func decode<T: PQDecodable>(_ type: T?.Type, column: String) throws -> T? {
        guard let position = columnIndex[column] else {
            throw PQError(code: .decoding, message: "no column named \(column); the row has \(columns)")
        }
        return try decode(type, at: position)
    }

    /// Decodes the row's columns, in order, as a tuple: `let (id, name) = try row.decode((Int64, String).self)`.
    public func decode<each T: PQDecodable>(_ types: (repeat each T).Type) throws -> (repeat each T) {
        var position = 0
        func next<U: PQDecodable>(_ type: U.Type) throws -> U {
            defer { position += 1 }
            return try decode(type, at: position)
        }
        return (repeat try next((each T).self))
    }

    private func decodeValue<T: PQDecodable>(_ type: T.Type, text: String?, column: String) throws -> T {
        guard let text else {
            if let optional = T.self as? any OptionalDecodable.Type {
                return optional.nullValue as! T
            }
            throw PQError(
                code: .decoding, message: "column \(column) is NULL; decode it as \(T.self)? to accept NULL")
        }
        do {
            return try T(postgresText: text)
        } catch let failure as PostgresDecodingFailure {
            throw PQError(code: .decoding, message: "column \(column) is not \(failure.expected) (decoding \(T.self))")
        }
    }
}

/// Lets the tuple decoder produce `nil` for NULL when a tuple element is an `Optional`.
protocol OptionalDecodable {
    static var nullValue: Self { get }
}

extension Optional: OptionalDecodable {
    static var nullValue: Self { nil }
}

extension Optional: PQDecodable where Wrapped: PQDecodable {
    public init(postgresText text: String) throws {
        self = try Wrapped(postgresText: text)
    }
}
