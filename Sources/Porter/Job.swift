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
public protocol Job: Codable, Sendable {
    /// The name workers dispatch on, e.g. `reports.generate`.
    static var method: String { get }
}

/// Arguments for a job that takes none: encodes as `{}`.
public struct NoArguments: Codable, Sendable, Hashable {
    public init() {}
}
