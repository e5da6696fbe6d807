import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// The README and the DocC articles show only Swift that CI compiles: each Swift block is a
/// file in Snippets/, which `swift build` builds, and these tests keep the copies the same.
/// Their config examples are accepted as written, their SQL and shell blocks name only
/// functions the migrations create and commands the `porter` executable has, and the README
/// stays a ten-minute read whose links lead somewhere.
@Suite struct DocumentationTests {
    static let root = MigrationTests.packageRoot
    static let catalog = root.appendingPathComponent("Sources/Porter/Porter.docc")

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

    /// The fenced blocks of a Markdown file, each with its language (the word after the
    /// fence, empty for none), the line before its fence, and its text.
    static func codeBlocks(in markdown: String) -> [(language: String, marker: String, code: String)] {
        let lines = markdown.components(separatedBy: "\n")
        var blocks: [(language: String, marker: String, code: String)] = []
        var index = 0
        while index < lines.count {
            if lines[index].hasPrefix("```") {
                let language = String(lines[index].dropFirst(3)).trimmingCharacters(in: .whitespaces)
                let marker = index > 0 ? lines[index - 1] : ""
                var code: [String] = []
                index += 1
                while index < lines.count, lines[index] != "```" {
                    code.append(lines[index])
                    index += 1
                }
                blocks.append((language: language, marker: marker, code: code.joined(separator: "\n")))
            }
            index += 1
        }
        return blocks
    }

    /// The ```swift blocks of a Markdown file, each with the line before its fence.
    static func swiftBlocks(in markdown: String) -> [(marker: String, code: String)] {
        codeBlocks(in: markdown).filter { $0.language == "swift" }.map { (marker: $0.marker, code: $0.code) }
    }

    /// The article files of the catalog (Porter.md, the module's page, among them).
    static func articles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: catalog.path).filter { $0.hasSuffix(".md") }.sorted()
    }

    /// The README and every article, by name, with their text.
    static func documents() throws -> [(name: String, text: String)] {
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        var documents: [(name: String, text: String)] = [(name: "README.md", text: readme)]
        for article in try articles() {
            let text = try String(contentsOf: catalog.appendingPathComponent(article), encoding: .utf8)
            documents.append((name: article, text: text))
        }
        return documents
    }

    /// The text of every file under a directory of the package whose name ends with `suffix`.
    static func texts(under directory: String, endingWith suffix: String) throws -> [String] {
        let base = root.appendingPathComponent(directory)
        let paths = try FileManager.default.subpathsOfDirectory(atPath: base.path)
        return try paths.filter { $0.hasSuffix(suffix) }.map {
            try String(contentsOf: base.appendingPathComponent($0), encoding: .utf8)
        }
    }

    @Test func everySwiftBlockOfTheReadmeIsItsSnippetLineForLine() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let blocks = Self.swiftBlocks(in: readme)
        #expect(blocks.count >= 3)
        for block in blocks {
            // <!-- snippet: Name (...) -->
            let name = try #require(
                block.marker.firstMatch(of: /<!-- snippet: (\w+)/).map { String($0.1) },
                "a README Swift block without a snippet marker before it:\n\(block.code)")
            #expect(block.code == (try Self.visibleText(ofSnippet: name)), "README block \(name) differs from Snippets/\(name).swift")
        }
    }

    @Test func theArticlesShowSwiftOnlyThroughSnippetsThatExist() throws {
        let articles = try Self.articles()
        for topic in ["GettingStarted", "EnqueueInYourTransaction", "EnqueueFromSQL", "Schema", "WritingJobs",
                      "ChainingAndDependencies", "RunningWorkers", "ConfigurationFile", "TimingContract", "Realtime",
                      "Scheduling", "Operations", "MetricsAndHealthChecks", "Dashboard", "RolesAndPrivileges", "Limits",
                      "HighAvailability", "PgBouncer", "PastOnePrimary", "CommandLineReference", "Benchmarks",
                      "TestingYourJobs", "Vapor"] {
            #expect(articles.contains("\(topic).md"), "the catalog has no \(topic) article")
        }
        var snippets = 0
        for article in articles {
            let text = try String(contentsOf: Self.catalog.appendingPathComponent(article), encoding: .utf8)
            #expect(Self.swiftBlocks(in: text).isEmpty, "\(article) has a Swift block that is not a snippet")
            for match in text.matches(of: /@Snippet\(path: "porter\/Snippets\/(\w+)"\)/) {
                snippets += 1
                let file = Self.root.appendingPathComponent("Snippets/\(match.1).swift")
                #expect(FileManager.default.fileExists(atPath: file.path), "\(article) shows a missing snippet \(match.1)")
            }
        }
        #expect(snippets >= 14)
    }

    /// Code an article shows from an example app rather than a snippet (the Vapor setup, which
    /// a snippet cannot import without building Vapor with every snippet) is a block after
    /// `<!-- excerpt: PATH -->` whose lines are lines of that file, in order, as they stand.
    @Test func everyExcerptIsLinesOfTheFileItNames() throws {
        var excerpts = 0
        for document in try Self.documents() {
            for block in Self.codeBlocks(in: document.text) {
                guard let path = block.marker.firstMatch(of: /<!-- excerpt: (\S+) -->/).map({ String($0.1) }) else { continue }
                excerpts += 1
                let file = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
                let trimmed = { (text: String) in
                    text.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n")
                }
                #expect("\n\(trimmed(file))\n".contains("\n\(trimmed(block.code))\n"), "\(document.name)'s excerpt is not in \(path) as it stands:\n\(block.code)")
            }
        }
        #expect(excerpts >= 1)
    }

    @Test func everySnippetIsShownInTheReadmeOrAnArticle() throws {
        let shown = try Self.documents().map { $0.text }.joined(separator: "\n")
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("Snippets").path)
        let names = files.filter { $0.hasSuffix(".swift") }.map { String($0.dropLast(".swift".count)) }
        #expect(names.count >= 11)
        for name in names {
            #expect(shown.contains("<!-- snippet: \(name) ") || shown.contains("@Snippet(path: \"porter/Snippets/\(name)\")"),
                    "Snippets/\(name).swift is shown neither in the README nor in an article")
        }
    }

    @Test func everyArticleHasATitleASummaryAndAPlaceInTheCatalogsTopics() throws {
        let topics = try String(contentsOf: Self.catalog.appendingPathComponent("Porter.md"), encoding: .utf8)
        for article in try Self.articles() {
            let text = try String(contentsOf: Self.catalog.appendingPathComponent(article), encoding: .utf8)
            let lines = text.components(separatedBy: "\n")
            #expect(lines.first?.hasPrefix("# ") == true, "\(article) does not start with a # title")
            let summary = lines.dropFirst().first(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) ?? ""
            #expect(!summary.isEmpty && !["#", "-", "|", "@", "```"].contains(where: { summary.hasPrefix($0) }),
                    "\(article) has no one-paragraph summary after its title")
            if article != "Porter.md" {
                let name = String(article.dropLast(".md".count))
                #expect(topics.contains("- <doc:\(name)>"), "Porter.md's Topics do not list \(name)")
            }
        }
    }

    @Test func theConfigFileExamplesAreAcceptedAsWritten() throws {
        var examples = 0
        for document in try Self.documents() {
            for block in Self.codeBlocks(in: document.text) where block.language == "json" {
                examples += 1
                // A worker reads the whole file, the scheduler's keys too, and refuses here what
                // it would refuse at start-up.
                do {
                    _ = try WorkerConfiguration.parse(Data(block.code.utf8))
                    if block.code.contains("scheduler_events") {
                        let schedule = try ScheduleConfiguration.parse(Data(block.code.utf8))
                        #expect(!schedule.events.isEmpty, "\(document.name)'s schedule has no events")
                    }
                } catch {
                    Issue.record("\(document.name) shows a config that Porter refuses: \(error)\n\(block.code)")
                }
            }
        }
        #expect(examples >= 2)
    }

    @Test func theSQLBlocksCallOnlyFunctionsTheMigrationsCreate() throws {
        var functions: Set<String> = []
        for migration in try Self.texts(under: "migrations", endingWith: ".sql") {
            for match in migration.matches(of: /CREATE (?:OR REPLACE )?FUNCTION porter\.(\w+)/) {
                functions.insert(String(match.1))
            }
        }
        #expect(functions.contains("enqueue"))
        var calls = 0
        for document in try Self.documents() {
            for block in Self.codeBlocks(in: document.text) where block.language == "sql" {
                for match in block.code.matches(of: /porter\.(\w+)\(/) {
                    calls += 1
                    #expect(functions.contains(String(match.1)),
                            "\(document.name) calls porter.\(match.1), which no migration creates:\n\(block.code)")
                }
            }
        }
        #expect(calls >= 5)
    }

    /// What the SQL blocks take for granted: the app's table and function they name.
    static let sqlBlockSetting = """
        CREATE TABLE customers (id integer PRIMARY KEY, name text);
        CREATE SCHEMA app;
        CREATE FUNCTION app.refresh_totals(args jsonb) RETURNS void LANGUAGE sql AS $$ SELECT $$;
        """

    /// Every SQL block of the README and the articles runs, as written, on a migrated
    /// database, each in a transaction that is rolled back (so the roles one creates, which
    /// belong to the whole server, never outlive it).
    @Test func everySQLBlockRunsAsWritten() async throws {
        let database = try await TestDatabase.create()
        let connection = try await database.connect()
        var ran = 0
        for document in try Self.documents() {
            for block in Self.codeBlocks(in: document.text) where block.language == "sql" {
                try await connection.execute("BEGIN")
                do {
                    try await connection.execute(Self.sqlBlockSetting)
                    try await connection.execute(block.code)
                    ran += 1
                } catch {
                    Issue.record("\(document.name)'s SQL block fails: \(error)\n\(block.code)")
                }
                try await connection.execute("ROLLBACK")
            }
        }
        #expect(ran >= 5)
        await connection.close()
        try await database.drop()
    }

    @Test func theShellBlocksRunOnlyCommandsPorterHas() throws {
        var commands: Set<String> = []
        for source in try Self.texts(under: "Sources", endingWith: ".swift") {
            for match in source.matches(of: /commandName: "([a-z\-]+)"/) { commands.insert(String(match.1)) }
        }
        #expect(commands.contains("worker"))
        var uses = 0
        for document in try Self.documents() {
            for block in Self.codeBlocks(in: document.text) {
                var verbs: [String] = []
                for line in block.code.components(separatedBy: "\n") {
                    if block.language == "sh" || block.language == "bash" {
                        // A command anywhere on the line (`$(porter dev url)`, `.build/release/porter
                        // bench`), its comment left out.
                        let command = line.hasPrefix("#") ? "" : line.components(separatedBy: " #")[0]
                        verbs += command.matches(of: /(?:^|[\s\/\(])porter ([a-z][a-z\-]*)/).map { String($0.1) }
                    } else if block.language.isEmpty {
                        // A synopsis or a terminal: lines that start with the command.
                        var command = line.trimmingCharacters(in: .whitespaces)
                        if command.hasPrefix("$ ") { command.removeFirst(2) }
                        if let match = command.prefixMatch(of: /porter ([a-z][a-z\-]*)/) { verbs.append(String(match.1)) }
                    }
                }
                for verb in verbs {
                    uses += 1
                    #expect(commands.contains(verb), "\(document.name) runs porter \(verb), which porter does not have:\n\(block.code)")
                }
            }
        }
        #expect(uses >= 30)
    }

    @Test func theReadmeIsATenMinuteReadWhoseLinksLeadSomewhere() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.components(separatedBy: "\n").count <= 300)
        var links = 0
        for match in readme.matches(of: /\]\(([^\)\s]+)\)/) where !match.1.hasPrefix("http") {
            links += 1
            let path = Self.root.appendingPathComponent(String(match.1)).path
            #expect(FileManager.default.fileExists(atPath: path), "the README links to \(match.1), which does not exist")
        }
        #expect(links >= 20)
    }
}
