import ArgumentParser
import Foundation
import Logging
import Porter
import ServiceLifecycle

/// `porter dashboard`: the web dashboard, served by the binary itself.
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Serve the web dashboard: queues, jobs, a job's page, workers, schedule; retry, cancel, pause, resume.",
        discussion: """
            Listens on 127.0.0.1 unless --host says otherwise; any other address needs --token \
            (or PORTER_DASHBOARD_TOKEN). With a token, open the printed URL once: it carries the \
            token, which the browser then keeps in a cookie; scripts send Authorization: Bearer \
            TOKEN. --read-only shows no actions and needs only the rights of Porter's reader role.
            """)

    @Option(help: "Port to listen on, \(DashboardCommand.portRange.text); 0 picks a free one.")
    var port: Int = 8420

    @Option(help: "Address to listen on. Anything but loopback needs --token.")
    var host: String = "127.0.0.1"

    @Flag(name: .customLong("read-only"), help: "Show and serve no actions (retry, cancel, pause, resume, bulk retry).")
    var readOnly = false

    @Option(help: "A secret every request must carry. Default: PORTER_DASHBOARD_TOKEN.")
    var token: String?

    @OptionGroup var connection: ConnectionOptions

    static let portRange = FlagRange("--port", 0...65_535)

    /// The token given by flag or environment.
    var effectiveToken: String? {
        let token = token ?? ProcessInfo.processInfo.environment["PORTER_DASHBOARD_TOKEN"]
        return token?.isEmpty == true ? nil : token
    }

    /// The shortest token accepted for a dashboard other machines can reach: a short one could
    /// be guessed by trying.
    static let minimumTokenLength = 16

    func validate() throws {
        try Self.portRange.check(port)
        guard !Self.isLoopback(host) else { return }
        guard let token = effectiveToken else {
            throw ValidationError(
                "--host \(host) would let other machines in; give --token SECRET (or PORTER_DASHBOARD_TOKEN), or listen on 127.0.0.1.")
        }
        if token.count < Self.minimumTokenLength {
            throw ValidationError(
                "--token must be at least \(Self.minimumTokenLength) characters when other machines can reach the dashboard; e.g. --token \"$(openssl rand -hex 16)\"")
        }
    }

    /// 127.0.0.0/8 written as four decimal numbers, ::1 and localhost. A name such as
    /// 127.example.com is not loopback, whatever it starts with.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return false }
        let numbers = octets.compactMap { $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) && $0.count <= 3 ? Int($0) : nil }
        return numbers.count == 4 && numbers[0] == 127 && numbers.allSatisfy { $0 <= 255 }
    }

    func run() async throws {
        guard let web = PorterCLI.web else {
            throw CommandFailure(
                message: "this executable was built without the dashboard; run the porter executable's `porter dashboard` on the same database")
        }
        var logger = Logger(label: "porter.dashboard")
        logger.logLevel = ProcessInfo.processInfo.environment["PORTER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let exporter = try PorterCLI.traceExportServices(logger: logger)
        let porter = try connection.makeClient(maximumConnections: 8, logger: logger)
        let settings = DashboardSettings(host: host, port: port, readOnly: readOnly, token: effectiveToken)
        let group = ServiceGroup(
            configuration: .init(
                services: exporter + [.init(service: web.dashboard(settings, client: porter, logger: logger))],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await porter.close()
    }
}
