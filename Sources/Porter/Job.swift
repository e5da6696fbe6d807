/// A kind of background job: its arguments, and the stable method name workers know it by.
///
/// The arguments are the type's own stored properties, encoded as a JSON object:
///
/// ```swift
/// struct GenerateReport: Job {
///     static let method = "reports.generate"
///     var outletGroup: String?
/// }
/// try await porter.enqueue(GenerateReport(outletGroup: "north"), on: transaction)
/// ```
///
/// Keep `method` stable once jobs are queued: it is how a worker finds the handler. Jobs can
/// also be enqueued by method string and JSON args, as `frappe.enqueue("app.module.fn", ...)`.
///
/// Every enqueue path, the worker and `now` runs encode and decode the arguments (and a
/// handler's result) with one configuration, `PQJSON.makeEncoder()` and
/// `makeDecoder()`, so the handler gets the values that were enqueued. On the wire, for
/// clients in other languages: a `Date` is an ISO 8601 string in UTC with milliseconds,
/// `"2026-12-01T10:00:00.123Z"` (read back with any fraction or offset); `Data` is base64;
/// `Decimal` a JSON number with its digits as they are; `UUID` and `URL` strings; a `nil`
/// optional leaves its key out. Keys are sorted.
public protocol Job: Codable, Sendable {
    /// The name workers dispatch on, e.g. `reports.generate`.
    static var method: String { get }
}

/// Arguments for a job that takes none: encodes as `{}`.
public struct NoArguments: Codable, Sendable, Hashable {
    /// No arguments.
    public init() {}
}
