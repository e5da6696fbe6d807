import Foundation
import PorterTesting
import Testing

/// Headless Chromium driven through chromedriver's WebDriver HTTP API (plain JSON over
/// loopback). Debian's `chromium` and `chromium-driver`; `scripts/install-deps --browser`
/// installs them.
final class ChromeDriver: @unchecked Sendable {
    private let process = Process()
    let base: String
    private let profiles: URL

    static let chromium = "/usr/bin/chromium"
    static let chromedriver = "/usr/bin/chromedriver"

    init() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.chromedriver),
            FileManager.default.isExecutableFile(atPath: Self.chromium)
        else {
            throw BrowserMissing()
        }
        let port = try freeLoopbackPort()
        base = "http://127.0.0.1:\(port)"
        profiles = FileManager.default.temporaryDirectory.appendingPathComponent("porter-chrome-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profiles, withIntermediateDirectories: true)
        let log = profiles.appendingPathComponent("chromedriver.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        // chromedriver ignores SIGTERM and outlives the test process; the browsers it starts
        // outlive it. So it runs in a process group of its own with a watchdog that kills the
        // whole group once this process is gone, however it ends.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = [
            "/bin/sh", "-c",
            "\"$0\" --port=\"$1\" --allowed-ips=127.0.0.1 & while kill -0 \"$2\" 2>/dev/null; do sleep 0.5; done; kill -KILL 0",
            Self.chromedriver, String(port), String(getpid()),
        ]
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var failure: (any Error)?
        do {
            try await waitUntil(timeout: .seconds(60), "chromedriver to start") { [base] in
                do {
                    let status = try await WebDriverHTTP.call("GET", base + "/status")
                    return ((status["value"] as? [String: Any])?["ready"] as? Bool) == true
                } catch {
                    failure = error
                    return false
                }
            }
        } catch {
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw WebDriverFailure(message: "chromedriver did not start: \(failure.map { "\($0)" } ?? "not ready"); its output: \(output)")
        }
    }

    /// A new headless browser window.
    func session(width: Int = 1400, height: Int = 900) async throws -> BrowserSession {
        let profile = profiles.appendingPathComponent(UUID().uuidString).path
        let capabilities: [String: Any] = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "goog:chromeOptions": [
                        "binary": Self.chromium,
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--no-first-run", "--user-data-dir=\(profile)", "--window-size=\(width),\(height)",
                        ],
                    ],
                ]
            ]
        ]
        let answer = try await WebDriverHTTP.call("POST", base + "/session", capabilities)
        guard let value = answer["value"] as? [String: Any], let id = value["sessionId"] as? String else {
            throw WebDriverFailure(message: "no session: \(answer)")
        }
        return BrowserSession(url: base + "/session/" + id)
    }

    deinit {
        try? FileManager.default.removeItem(at: profiles)
    }
}

/// One browser window.
struct BrowserSession: Sendable {
    let url: String

    func go(_ address: String) async throws {
        _ = try await WebDriverHTTP.call("POST", url + "/url", ["url": address])
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page and returns its value.
    @discardableResult
    func run(_ script: String, _ args: [Any] = []) async throws -> Any? {
        let answer = try await WebDriverHTTP.call("POST", url + "/execute/sync", ["script": script, "args": args])
        let value = answer["value"]
        return value is NSNull ? nil : value
    }

    /// The text of the first element matching `css`, or nil.
    func text(_ css: String) async throws -> String? {
        try await run("const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", [css]) as? String
    }

    /// How many elements match `css`.
    func count(_ css: String) async throws -> Int {
        (try await run("return document.querySelectorAll(arguments[0]).length;", [css]) as? Int) ?? 0
    }

    /// Clicks the first element matching `css`, as a user would (WebDriver's click).
    func click(_ css: String) async throws {
        let found = try await WebDriverHTTP.call("POST", url + "/element", ["using": "css selector", "value": css])
        guard let element = (found["value"] as? [String: Any])?.values.first as? String else {
            throw WebDriverFailure(message: "no element \(css): \(found)")
        }
        _ = try await WebDriverHTTP.call("POST", url + "/element/\(element)/click", [String: Any]())
    }

    /// Waits until `script` returns true in the page.
    func waitFor(_ what: String, timeout: Duration = .seconds(30), _ script: String, _ args: [Any] = []) async throws {
        try await waitUntil(timeout: timeout, what) {
            (try? await run(script, args)) as? Bool == true
        }
    }

    /// A PNG of the window.
    func screenshot() async throws -> Data {
        let answer = try await WebDriverHTTP.call("GET", url + "/screenshot")
        guard let text = answer["value"] as? String, let data = Data(base64Encoded: text) else {
            throw WebDriverFailure(message: "no screenshot")
        }
        return data
    }

    func close() async {
        _ = try? await WebDriverHTTP.call("DELETE", url)
    }
}

enum WebDriverHTTP {
    static func call(_ method: String, _ address: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let answer = try await LoopbackHTTP.send(
            method, address, headers: data == nil ? [:] : ["Content-Type": "application/json"], body: data)
        let object = (try? JSONSerialization.jsonObject(with: answer.body, options: [.fragmentsAllowed])) as? [String: Any] ?? [:]
        if let value = object["value"] as? [String: Any], let error = value["error"] as? String {
            throw WebDriverFailure(message: "\(method) \(address): \(error): \(value["message"] ?? "")")
        }
        return object
    }
}

struct WebDriverFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

struct BrowserMissing: Error, CustomStringConvertible {
    var description: String {
        "the browser tests need Debian's chromium and chromium-driver: run scripts/install-deps --browser (scripts/test does)"
    }
}

/// A port nothing listens on now, from the kernel (bind to port 0, read it, close).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw WebDriverFailure(message: "socket failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw WebDriverFailure(message: "bind failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A long-running `porter` process started by a test: `porter dashboard` on a free port, or any
/// other command, its output collected in a file.
final class PorterProcess: @unchecked Sendable {
    let process = Process()
    let log: URL

    convenience init(database: TestDatabase, connectionString: String? = nil, arguments: [String] = []) throws {
        try self.init(["dashboard", "--port", "0", "--database-url", connectionString ?? database.connectionString] + arguments)
    }

    /// Any long-running `porter` command, its output collected the same way.
    static func porter(_ arguments: [String]) throws -> PorterProcess {
        try PorterProcess(arguments)
    }

    private init(_ arguments: [String]) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("porter-dashboard-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = porterExecutable()
        process.arguments = arguments
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// The URL it printed once listening (with `?token=` when it has one).
    func url() async throws -> String {
        var url: String?
        try await waitUntil(timeout: .seconds(60), "porter dashboard to listen") {
            url = WorkerProcess.url(after: "dashboard on ", in: self.output)
            return url != nil || !self.process.isRunning
        }
        guard let url else { throw WebDriverFailure(message: "porter dashboard exited: \(output)") }
        return url
    }

    /// The URL without its token.
    func base() async throws -> String {
        var base = String(try await url().prefix { $0 != "?" })
        if base.hasSuffix("/") { base.removeLast() }
        return base
    }

    func stop() async throws -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        try await waitUntil(timeout: .seconds(30), "porter dashboard to exit") { !self.process.isRunning }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
