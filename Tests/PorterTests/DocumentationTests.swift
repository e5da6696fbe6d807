import Foundation
import Testing

/// The README and the DocC articles show only Swift that CI compiles: each Swift block is a
/// file in Snippets/, which `swift build` builds, and these tests keep the copies the same.
@Suite struct DocumentationTests {
    static let root = MigrationTests.packageRoot

    /// What DocC shows of a snippet: the file without its leading comment (the snippet's
    /// explanation) and without the lines between `// snippet.hide` and `// snippet.show`.
    static func visibleText(ofSnippet name: String) throws -> String {
        let text = try String(contentsOf: root.appendingPathComponent("Snippets/\(name).swift"), encoding: .utf8)
        var lines = text.components(separatedBy: "\n")[...]
        while let first = lines.first, first.hasPrefix("//") { lines.removeFirst() }
        var shown: [String] = []
        var hidden = false
        for line in lines {
            switch line.trimmingCharacters(in: .whitespaces) {
            case "// snippet.hide": hidden = true
            case "// snippet.show": hidden = false
            default: if !hidden { shown.append(line) }
            }
        }
        while shown.first?.trimmingCharacters(in: .whitespaces).isEmpty == true { shown.removeFirst() }
        while shown.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { shown.removeLast() }
        return shown.joined(separator: "\n")
    }

    /// The ```swift blocks of a Markdown file, each with the line before its fence.
    static func swiftBlocks(in markdown: String) -> [(marker: String, code: String)] {
        let lines = markdown.components(separatedBy: "\n")
        var blocks: [(String, String)] = []
        var index = 0
        while index < lines.count {
            if lines[index] == "```swift" {
                let marker = index > 0 ? lines[index - 1] : ""
                var code: [String] = []
                index += 1
                while index < lines.count, lines[index] != "```" {
                    code.append(lines[index])
                    index += 1
                }
                blocks.append((marker, code.joined(separator: "\n")))
            }
            index += 1
        }
        return blocks
    }

    @Test func everySwiftBlockOfTheReadmeIsItsSnippetLineForLine() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let blocks = Self.swiftBlocks(in: readme)
        #expect(blocks.count >= 6)
        for block in blocks {
            // <!-- snippet: Name (...) -->
            let name = try #require(
                block.marker.firstMatch(of: /<!-- snippet: (\w+)/).map { String($0.1) },
                "a README Swift block without a snippet marker before it:\n\(block.code)")
            #expect(block.code == (try Self.visibleText(ofSnippet: name)), "README block \(name) differs from Snippets/\(name).swift")
        }
    }

    @Test func theArticlesShowSwiftOnlyThroughSnippetsThatExist() throws {
        let catalog = Self.root.appendingPathComponent("Sources/Porter/Porter.docc")
        let articles = try FileManager.default.contentsOfDirectory(atPath: catalog.path).filter { $0.hasSuffix(".md") }
        for topic in ["GettingStarted", "EnqueueInYourTransaction", "WritingJobs", "RunningWorkers", "Realtime", "Scheduling",
                      "Operations", "TestingYourJobs"] {
            #expect(articles.contains("\(topic).md"), "the catalog has no \(topic) article")
        }
        var snippets = 0
        for article in articles {
            let text = try String(contentsOf: catalog.appendingPathComponent(article), encoding: .utf8)
            #expect(Self.swiftBlocks(in: text).isEmpty, "\(article) has a Swift block that is not a snippet")
            for match in text.matches(of: /@Snippet\(path: "porter\/Snippets\/(\w+)"\)/) {
                snippets += 1
                let file = Self.root.appendingPathComponent("Snippets/\(match.1).swift")
                #expect(FileManager.default.fileExists(atPath: file.path), "\(article) shows a missing snippet \(match.1)")
            }
        }
        #expect(snippets >= 8)
    }
}
