import PorterPostgres

/// Who owns an `sql:` job's function, `schema.function(jsonb)` exactly, as the job's own
/// transaction reads it just before the call (`JobRunQueries.prepareSQLJob`), and whether
/// the worker trusts that owner.
///
/// A function runs with the rights of whoever calls it, here the worker, often a superuser.
/// `SET ROLE` would be no sandbox (the function may `RESET ROLE`), but ownership is a real
/// boundary: only the owner, or a member of it, can replace a function's body, and nobody can
/// give a function to a role they are not a member of. So only the functions of trusted owners
/// run: the worker's own login role, the owner of schema `porter`, and the roles of
/// `sql_owners`. Otherwise a role that owns a schema of `sql_schemas`, as apps own theirs,
/// could run its code with the worker's rights.
struct SQLFunctionOwner: Sendable, Equatable {
    /// The function's owner.
    var owner: String
    /// The worker's login role (`session_user`), trusted always.
    var workerRole: String
    /// The owner of schema `porter`, trusted always.
    var porterOwner: String
    /// Whether `owner` is one of the above or in `sql_owners`, compared byte for byte.
    var trusted: Bool

    /// Why an sql: job did not call its function. `permanent`: retrying cannot help until
    /// someone changes the config or the function, so the job fails at once, as one whose
    /// schema is not allowed does.
    struct Refusal: Error, CustomStringConvertible, Equatable {
        var description: String
        var permanent: Bool
    }

    /// No function `schema.function(jsonb)` exists. Not permanent: PostgreSQL's own error for a
    /// missing function was retried before owners were checked, and a deploy may still create
    /// it. An overload or a polymorphic lookalike would be what the call resolved to, so none
    /// stands in for it.
    static func missing(_ target: SQLJobMethod) -> Refusal {
        Refusal(
            description: "function \(target.signature) does not exist: an sql: job calls exactly schema.function(jsonb), and no overload or lookalike stands in for it; create it, or fix the job's method",
            permanent: false)
    }

    /// Why `target`, owned by `owner`, may not run under this worker; nil when it may.
    func refusal(for target: SQLJobMethod, sqlOwners: Set<String>) -> Refusal? {
        guard !trusted else { return nil }
        var example = ""
        JSONElementValue.writeString(owner, to: &example)
        let listed = sqlOwners.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var current = "["
        for (index, name) in listed.enumerated() {
            if index > 0 { current += ", " }
            JSONElementValue.writeString(name, to: &current)
        }
        current += "]"
        return Refusal(
            description: "function \(target.signature) is owned by role \(owner), whose functions this worker does not run: it runs only the functions of its own role (\(workerRole)), of the owner of schema porter (\(porterOwner)) and of the roles in \"sql_owners\" (\(current)); if \(owner) may run code with the worker's rights, add it to \"sql_owners\" in the config, e.g. {\"sql_owners\": [\(example)]}, else give the function to a trusted role (ALTER FUNCTION \(target.signature) OWNER TO <a trusted role>)",
            permanent: true)
    }
}

extension SQLFunctionOwner {
    /// The owner's columns of `JobRunQueries.prepareSQLJob`'s row, the last four; nil when
    /// they are NULL: there is no function `schema.function(jsonb)`.
    init?(row: PQRow) throws {
        guard let owner = try row.decode(String?.self, at: 4) else { return nil }
        self.owner = owner
        workerRole = try row.decode(String.self, at: 5)
        porterOwner = try row.decode(String.self, at: 6)
        trusted = try row.decode(Bool.self, at: 7)
    }
}
