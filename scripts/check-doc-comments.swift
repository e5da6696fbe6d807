// Lists the public symbols that are declared in this package's Sources/ and have no doc
// comment of their own, reading the symbol graphs `swift package generate-documentation`
// extracts. A member that only inherits its protocol's documentation (a `description`, an
// `init(from:)`) counts as undocumented: the reader learns nothing about this type's.
// Exits 1 when there is any. Run by scripts/check-docs.
//
//   swift scripts/check-doc-comments.swift .build/<triple>/extracted-symbols/<package> Porter PorterCLI ...
import Foundation

struct SymbolGraph: Decodable {
    struct Symbol: Decodable {
        struct Kind: Decodable { var identifier: String }
        struct Location: Decodable { var uri: String }
        struct DocComment: Decodable { var module: String? }
        var kind: Kind
        var pathComponents: [String]
        var accessLevel: String
        var location: Location?
        var docComment: DocComment?
    }
    struct Module: Decodable { var name: String }
    var module: Module
    var symbols: [Symbol]
}

let arguments = CommandLine.arguments.dropFirst()
guard let root = arguments.first else {
    FileHandle.standardError.write(Data("usage: check-doc-comments.swift SYMBOL_GRAPH_DIR TARGET...\n".utf8))
    exit(2)
}
let sources = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Sources").path
var missing: [String] = []
var checked = 0
for target in arguments.dropFirst() {
    let folder = URL(fileURLWithPath: root).appendingPathComponent(target)
    let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.filter { $0.hasSuffix(".symbols.json") } ?? []
    guard !files.isEmpty else {
        FileHandle.standardError.write(Data("no symbol graphs for \(target) in \(folder.path)\n".utf8))
        exit(2)
    }
    for file in files.sorted() {
        let graph = try JSONDecoder().decode(SymbolGraph.self, from: Data(contentsOf: folder.appendingPathComponent(file)))
        // An extension block is not a symbol a reader looks up; its members are checked.
        for symbol in graph.symbols where ["public", "open"].contains(symbol.accessLevel) && symbol.kind.identifier != "swift.extension" {
            guard let uri = symbol.location?.uri, let path = URL(string: uri)?.path, path.hasPrefix(sources + "/") else { continue }
            checked += 1
            if symbol.docComment == nil || (symbol.docComment?.module.map { $0 != target } ?? false) {
                let file = String(path.dropFirst(sources.count + 1))
                missing.append("\(file): \(symbol.pathComponents.joined(separator: ".")) (\(symbol.kind.identifier))")
            }
        }
    }
}
if missing.isEmpty {
    print("every public symbol has a doc comment (\(checked) checked)")
} else {
    print("public symbols without a doc comment of their own (\(missing.count) of \(checked)):")
    for line in Set(missing).sorted() { print("  " + line) }
    exit(1)
}
