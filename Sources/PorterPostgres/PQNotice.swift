/// A NOTICE, WARNING or other non-error message the server sent during a statement.
///
/// The server sends these at once, not at commit, so a function running inside a long
/// transaction can report through them while it runs (Porter's sql: jobs relay their progress
/// this way).
public struct PQNotice: Sendable, Hashable {
    /// NOTICE, WARNING, INFO, LOG or DEBUG (never localized).
    public var severity: String
    /// The primary message.
    public var message: String
    /// The DETAIL field, when the server sent one.
    public var detail: String?

    /// A notice as the server sent it.
    public init(severity: String, message: String, detail: String? = nil) {
        self.severity = severity
        self.message = message
        self.detail = detail
    }
}
