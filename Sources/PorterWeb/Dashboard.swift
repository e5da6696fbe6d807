import Foundation
import Hummingbird
import Logging
import Porter
import PorterCLI
import ServiceLifecycle

/// `porter dashboard`: a Hummingbird server for one page of plain HTML, CSS and JavaScript
/// (`DashboardAssets`) and the JSON and server-sent events it reads (`DashboardAPI`,
/// `DashboardEvents`). `DashboardGuard` checks the token, or on loopback the Host header.
struct Dashboard: Service {
    let settings: DashboardSettings
    let client: PorterClient
    let logger: Logger

    func run() async throws {
        let events = DashboardEvents(client: client, logger: logger)
        let router = Router()
        router.add(middleware: DashboardGuard(token: settings.token))
        DashboardAPI(client: client, events: events, readOnly: settings.readOnly, logger: logger).register(on: router)
        let settings = settings
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "porter"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? settings.port
                let host = settings.host.contains(":") ? "[\(settings.host)]" : settings.host
                var line = "dashboard on http://\(host):\(port)/"
                if let token = settings.token {
                    line += "?token=\(token.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? token)"
                }
                if settings.readOnly { line += " (read-only)" }
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            },
            logger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await events.run() }
            try await withGracefulShutdownHandler {
                try await app.run()
            } onGracefulShutdown: {
                // Event streams never end by themselves; the server waits for them to.
                events.finish()
            }
            events.finish()
            group.cancelAll()
        }
    }
}
