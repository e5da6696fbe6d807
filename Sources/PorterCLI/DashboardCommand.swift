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

    func validate() throws {
        try Self.portRange.check(port)
        if !Self.isLoopback(host) && effectiveToken == nil {
            throw ValidationError(
                "--host \(host) would let other machines in; give --token SECRET (or PORTER_DASHBOARD_TOKEN), or listen on 127.0.0.1.")
        }
    }

    /// 127.0.0.0/8, ::1 and localhost.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    func run() async throws {
        guard let web = PorterCLI.web else {
            throw CommandFailure(
                message: "this executable was built without the dashboard; run the porter executable's `porter dashboard` on the same database")
        }
        var logger = Logger(label: "porter.dashboard")
        logger.logLevel = ProcessInfo.processInfo.environment["PORTER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let porter = try connection.makeClient(maximumConnections: 8, logger: logger)
        let settings = DashboardSettings(host: host, port: port, readOnly: readOnly, token: effectiveToken)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: web.dashboard(settings, client: porter, logger: logger))],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await porter.close()
    }
}
