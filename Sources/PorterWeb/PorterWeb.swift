import PorterCLI

/// The `porter` executable's HTTP side: the Prometheus endpoint with health checks beside
/// `porter worker --metrics-port`, and `porter dashboard`. A target of the executable alone,
/// so that no library users link carries Hummingbird or Prometheus.
package enum PorterWeb {
    /// Gives PorterCLI these servers; the executable's main calls it before parsing.
    package static func install() {
        PorterCLI.web = PrometheusWebServices()
    }
}
