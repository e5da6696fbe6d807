import Foundation
import PorterPostgres

/// A document type, Frappe's DocType: records that a job loads by name and runs a method on.
///
/// ```swift
/// struct Outlet: Document {
///     static let doctype = "Outlet"
///     var name: String
///     var warehouse: String?
///
///     static func load(name: String, context: JobContext) async throws -> Outlet? {
///         guard let row = try await context.pool.query("SELECT name, warehouse FROM app.outlets WHERE name = \(name)").first
///         else { return nil }
///         let (name, warehouse) = try row.decode((String, String?).self)
///         return Outlet(name: name, warehouse: warehouse)
///     }
/// }
///
/// registry.register(document: Outlet.self, method: "sync_stock") { outlet, kwargs, context in ... }
/// try await porter.enqueueDoc(doctype: "Outlet", name: "OUT-0001", method: "sync_stock", on: transaction)
/// ```
///
/// From SQL: `SELECT porter.enqueue_doc('Outlet', 'OUT-0001', 'sync_stock', '{"force": true}')`.
public protocol Document: Sendable {
    /// The name jobs address the type by, e.g. `Outlet`.
    static var doctype: String { get }
    /// Loads the record named `name`; `nil` when there is none, which fails the job.
    static func load(name: String, context: JobContext) async throws -> Self?
}

/// The job a document method runs as: method `porter.run_doc_method` (Frappe's
/// `run_doc_method`) with args `{"doctype", "name", "doc_method", "kwargs"}`, the shape
/// `porter.enqueue_doc` writes.
public struct DocumentJob: Sendable, Hashable {
    /// The method every document job runs as, Frappe's `run_doc_method`.
    public static let method = "porter.run_doc_method"
    /// The document type, as a registered `Document`'s `doctype` names it (e.g. `Outlet`).
    public var doctype: String
    /// The name of the record to load, passed to the type's `load(name:context:)`.
    public var name: String
    /// The document method to run.
    public var docMethod: String
    /// The method's keyword arguments, a JSON object.
    public var kwargs: PQJSON

    /// A document job: run `docMethod` with `kwargs` on the `doctype` record named `name`.
    public init(doctype: String, name: String, docMethod: String, kwargs: PQJSON = PQJSON(text: "{}")) {
        self.doctype = doctype
        self.name = name
        self.docMethod = docMethod
        self.kwargs = kwargs
    }

    /// Reads a job's args; a clear error when they are not a document job's.
    init(args: PQJSON) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(args.text.utf8)) as? [String: Any],
            let doctype = object["doctype"] as? String, let name = object["name"] as? String,
            let docMethod = object["doc_method"] as? String
        else {
            throw PorterError(
                code: .invalidArgument(parameter: "args"),
                message: "\(Self.method) needs args {\"doctype\", \"name\", \"doc_method\", \"kwargs\"}; enqueue it with porter.enqueue_doc, got \(args.text.prefix(200))")
        }
        var kwargs = PQJSON(text: "{}")
        if let value = object["kwargs"], !(value is NSNull),
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) {
            kwargs = PQJSON(text: String(decoding: data, as: UTF8.self))
        }
        self.init(doctype: doctype, name: name, docMethod: docMethod, kwargs: kwargs)
    }

    /// The job's args, as `porter.enqueue_doc` builds them.
    package var args: PQJSON {
        var text = "{"
        for (key, value) in [("doc_method", docMethod), ("doctype", doctype), ("name", name)] {
            JSONElementValue.writeString(key, to: &text)
            text += ":"
            JSONElementValue.writeString(value, to: &text)
            text += ","
        }
        return PQJSON(text: text + "\"kwargs\":" + kwargs.text + "}")
    }
}
