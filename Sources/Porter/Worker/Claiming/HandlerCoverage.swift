import PorterPostgres

/// What one worker can run: the methods its registry has handlers for, the methods of its
/// document types, and the functions of the schemas its config allows for `sql:` jobs.
///
/// A worker records it in `porter.workers.methods` as names, so a worker that claims a job it
/// cannot run can tell whether another live worker can (`ForeignJobs`). A job's name is its
/// method, except for a document job, whose method (`porter.run_doc_method`) every document
/// job shares: its name adds the doctype and document method, `porter.run_doc_method:Outlet.sync_stock`.
/// A worker allowed a schema lists `sql:<schema>.*`, which covers every `sql:<schema>.<function>`.
struct HandlerCoverage: Sendable {
    let registry: JobRegistry
    let sqlSchemas: Set<String>
    let sqlFunctions: Set<String>

    /// This worker's names, as stored in `porter.workers.methods`, sorted.
    var names: [String] {
        var names = registry.methods
        if !registry.handlesDocumentJobsItself {
            names += registry.documentMethods.map { Self.documentPrefix + "\($0.doctype).\($0.method)" }
        }
        names += sqlSchemas.map { "\(SQLJobMethod.prefix)\($0).*" }
        names += sqlFunctions.map { "\(SQLJobMethod.prefix)\($0)" }
        return names.sorted()
    }

    /// Why this worker cannot run `job`, in the words of the error it would fail with; nil if
    /// it can, or if only running it can tell (a document job whose args are not a document
    /// job's fails there, as a bad job, wherever it runs).
    func refusal(for job: ClaimedJob) -> String? {
        if job.method.hasPrefix(SQLJobMethod.prefix) {
            // A malformed name fails as a bad job wherever it runs; only a schema or function
            // this worker is not allowed may be another worker's. SQLJobMethod compares names
            // byte for byte, as PostgreSQL does.
            guard Self.schema(of: job.method) != nil else { return nil }
            do {
                _ = try SQLJobMethod(job.method, schemas: sqlSchemas, functions: sqlFunctions)
                return nil
            } catch {
                return "\(error)"
            }
        }
        if job.method == DocumentJob.method, !registry.handlesDocumentJobsItself {
            guard let document = try? DocumentJob(args: job.args) else { return nil }
            return registry.documentLookupError(doctype: document.doctype, docMethod: document.docMethod)?.message
        }
        if registry.handler(for: job.method) != nil { return nil }
        return registry.unknownMethodMessage(job.method)
    }

    /// The name other workers know `job` by (see the type's summary).
    static func name(of job: ClaimedJob) -> String {
        guard job.method == DocumentJob.method, let document = try? DocumentJob(args: job.args) else { return job.method }
        return documentPrefix + "\(document.doctype).\(document.docMethod)"
    }

    /// Whether a worker listing `names` can run the job named `name`.
    /// Names are compared byte for byte, as `SQLJobMethod` compares them: under Swift's `==`,
    /// `sql:\u{212A}app.f` (KELVIN SIGN) would be covered by a worker of schema `Kapp`.
    static func covers(_ names: [String], _ name: String) -> Bool {
        func listed(_ name: String) -> Bool { names.contains { $0.utf8.elementsEqual(name.utf8) } }
        if listed(name) { return true }
        if name.hasPrefix(DocumentJob.method + ":") { return listed(DocumentJob.method) }
        guard name.hasPrefix(SQLJobMethod.prefix), let schema = schema(of: name) else { return false }
        return listed("\(SQLJobMethod.prefix)\(schema).*")
    }

    /// For a document job's name, its `doctype.method`; nil for any other name.
    static func documentMethod(inName name: String) -> String? {
        guard name.hasPrefix(documentPrefix) else { return nil }
        return String(name.dropFirst(documentPrefix.count))
    }

    private static let documentPrefix = DocumentJob.method + ":"

    /// The schema of `sql:schema.function`; nil when the name is not of that form.
    private static func schema(of method: String) -> String? {
        let name = method.dropFirst(SQLJobMethod.prefix.count)
        guard let dot = name.firstIndex(of: "."), dot != name.startIndex, name.index(after: dot) != name.endIndex else { return nil }
        return String(name[..<dot])
    }
}
