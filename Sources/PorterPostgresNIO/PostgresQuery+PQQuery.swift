import PorterPostgres
import PostgresNIO

extension PostgresQuery {
    /// One of Porter's statements, for postgres-nio: the same SQL and the same parameters,
    /// sent as text for the server to type, as libpq sends them.
    init(_ query: PQQuery) {
        var binds = PostgresBindings(capacity: query.binds.count)
        for bind in query.binds {
            if let text = bind {
                binds.append(PQTextBind(text: text))
            } else {
                binds.appendNull()
            }
        }
        self.init(unsafeSQL: query.sql, binds: binds)
    }
}
