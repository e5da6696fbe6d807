import Foundation
import Hummingbird
import Logging
import Porter
import PorterPostgres
import Prometheus
import ServiceLifecycle

/// `porter worker --metrics-port`: `GET /metrics` in Prometheus's text format, `GET
/// /health/live` (200 while the process serves) and `GET /health/ready` (200 when the database
/// answers and has this build's schema, else 503 saying why).
struct MetricsEndpoint: Service {
    let host: String
    let port: Int
    let client: PorterClient
    let registry: PrometheusCollectorRegistry
    let logger: Logger

    func run() async throws {
        // Its own connection, so that a worker whose job slots hold every pooled connection is
        // still seen as ready, and a readiness probe never waits behind a job.
        let probe = PQPool(client.pool.configuration, maximumConnections: 1, logger: logger)
        let health = PorterClient(pool: probe, logger: logger)
        let router = Router()
        router.get("/metrics") { [registry] _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/health/live") { _, _ -> Response in
            Self.text(.ok, "ok\n")
        }
        router.get("/health/ready") { _, _ -> Response in
            await Self.readiness(health)
        }
        let logger = logger
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "porter"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.info("serving /metrics, /health/live and /health/ready on http://\(host):\(bound)")
            },
            logger: logger)
        do {
            try await app.run()
        } catch {
            await probe.close()
            throw error
        }
        await probe.close()
    }

    /// Ready: the database answers within 2 s and has every migration this build embeds.
    static func readiness(_ client: PorterClient) async -> Response {
        do {
            let current = try await withThrowingTaskGroup(of: Bool?.self) { group in
                group.addTask { try await client.isSchemaCurrent() }
                group.addTask {
                    try await Task.sleep(for: .seconds(2))
                    return nil
                }
                defer { group.cancelAll() }
                return try await group.next() ?? nil
            }
            switch current {
            case true?: return text(.ok, "ready\n")
            case false?: return text(.serviceUnavailable, "not ready: the database's Porter schema is older than this worker's; run `porter migrate`\n")
            case nil: return text(.serviceUnavailable, "not ready: the database did not answer within 2 s\n")
            }
        } catch {
            return text(.serviceUnavailable, "not ready: the database cannot be reached (\(error))\n")
        }
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
