import CLibPQ

/// Copies rows and errors out of a `PGresult`.
enum PQResultReader {
    static func rows(from result: OpaquePointer) -> PQRows {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        var columns: [String] = []
        columns.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            columns.append(String(cString: PQfname(result, Int32(column))))
        }
        var cells: [String?] = []
        cells.reserveCapacity(columnCount * rowCount)
        for row in 0..<Int32(rowCount) {
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    cells.append(nil)
                } else {
                    cells.append(String(cString: PQgetvalue(result, row, column)))
                }
            }
        }
        let tag = String(cString: PQcmdStatus(result))
        return PQRows(columns: columns, cells: cells, commandTag: tag)
    }

    static func error(from result: OpaquePointer) -> PQError {
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
        }
        let message = field("M") ?? String(cString: PQresultErrorMessage(result)).trimmingTrailingNewlines
        return PQError(
            code: .server,
            message: message,
            sqlState: field("C").map(SQLState.init(rawValue:)),
            detail: field("D"),
            hint: field("H"),
            severity: field("V"),
            schema: field("s"),
            table: field("t"),
            column: field("c"),
            constraint: field("n"))
    }
}
