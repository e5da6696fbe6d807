import Logging
import Porter
import ServiceLifecycle

/// The HTTP servers of the `porter` executable: the Prometheus endpoint with health checks
/// beside `porter worker`, and `porter dashboard`. They live in the executable's own target
/// (PorterWeb), which carries Hummingbird and Prometheus, so that PorterCLI, a product users
/// link, carries neither. `porter`'s main sets `PorterCLI.web`; an executable built on
/// PorterCLI alone has none, and its `dashboard` and `--metrics-port` say so.
package protocol WebServices: Sendable {
    /// Routes swift-metrics to the registry that `/metrics` serves. Once per process, before
    /// any metric is recorded.
    func bootstrapMetrics()

    /// `GET /metrics`, `/health/live` and `/health/ready` on `host`:`port` (0: any free port),
    /// as a Service for the worker's ServiceGroup.
    func metricsEndpoint(host: String, port: Int, client: PorterClient, logger: Logger) -> any Service

    /// The dashboard, as a Service.
    func dashboard(_ settings: DashboardSettings, client: PorterClient, logger: Logger) -> any Service
}

/// How `porter dashboard` was asked to serve.
package struct DashboardSettings: Sendable {
    package var host: String
    /// 0: any free port (the URL it prints says which).
    package var port: Int
    /// No actions: retry, cancel, pause, resume and bulk retry are neither shown nor served.
    package var readOnly: Bool
    /// Required from every request when set: `Authorization: Bearer T`, or `?token=T` once,
    /// which sets a cookie.
    package var token: String?

    package init(host: String, port: Int, readOnly: Bool, token: String?) {
        self.host = host
        self.port = port
        self.readOnly = readOnly
        self.token = token
    }
}
