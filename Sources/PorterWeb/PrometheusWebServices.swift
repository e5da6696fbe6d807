import Logging
import Metrics
import Porter
import PorterCLI
import Prometheus
import ServiceLifecycle

/// PorterCLI's web services, on Hummingbird, with swift-metrics routed to Prometheus.
struct PrometheusWebServices: WebServices {
    /// What `/metrics` serves: every metric swift-metrics records in this process.
    static let registry = PrometheusCollectorRegistry()

    func bootstrapMetrics() {
        var factory = PrometheusMetricsFactory(registry: Self.registry)
        for timer in [PorterMetrics.jobWait, PorterMetrics.jobRun] {
            factory.durationHistogramBuckets[timer] = PorterMetrics.durationBuckets
        }
        MetricsSystem.bootstrap(factory)
    }

    func metricsEndpoint(host: String, port: Int, client: PorterClient, logger: Logger) -> any Service {
        MetricsEndpoint(host: host, port: port, client: client, registry: Self.registry, logger: logger)
    }

    func dashboard(_ settings: DashboardSettings, client: PorterClient, logger: Logger) -> any Service {
        Dashboard(settings: settings, client: client, logger: logger)
    }
}
