import PorterPostgres
import PostgresNIO

extension PSQLError {
    /// The server's error as Porter's libpq layer reports it, with every field the server
    /// sent (SQLSTATE, message, detail, hint, column, constraint, ...), so that
    /// `PorterError.fromEnqueue` maps it exactly as it maps an error from Porter's own path.
    /// `nil` for errors that are not the server's (a lost connection, a closed pool).
    var serverError: PQError? {
        guard code == .server, let info = serverInfo, let message = info[.message] else { return nil }
        return PQError(
            code: .server, message: message, sqlState: info[.sqlState].map(SQLState.init(rawValue:)),
            detail: info[.detail], hint: info[.hint], severity: info[.severity], schema: info[.schemaName],
            table: info[.tableName], column: info[.columnName], constraint: info[.constraintName])
    }
}
