import Logging
import OTel
import PorterCLI
import ServiceLifecycle

/// `porter worker`, `scheduler` and `dashboard` export their spans with swift-otel when the
/// standard variables ask for it: `OTEL_EXPORTER_OTLP_ENDPOINT` or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, with `OTEL_EXPORTER_OTLP_PROTOCOL` `http/protobuf`
/// (the default) or `http/json`, `OTEL_SERVICE_NAME` (default `porter`) and
/// `OTEL_TRACES_SAMPLER`, read by swift-otel itself. Traces only: Porter's metrics stay its
/// Prometheus endpoint's, and its logs swift-log's. Only OTLP/HTTP is built (swift-otel's
/// `OTLPHTTP` trait), so `grpc` is refused by name.
struct OTelTraceExport: TraceExport {
    /// The variables that say where spans go; neither set, nothing is bootstrapped.
    static let endpointVariables = ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"]
    /// The variables that choose the protocol, the traces' own first.
    static let protocolVariables = ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"]

    func bootstrap(environment: [String: String], logger: Logger) throws -> (any Service)? {
        guard Self.endpointVariables.contains(where: { !(environment[$0] ?? "").isEmpty }) else { return nil }
        for variable in Self.protocolVariables {
            guard let value = environment[variable], !value.isEmpty else { continue }
            guard value == "http/protobuf" || value == "http/json" else {
                throw CommandFailure(
                    message: "\(variable)=\(value): this porter exports over OTLP/HTTP only; set it to http/protobuf or http/json (and the endpoint to the collector's HTTP port, usually 4318)")
            }
            break
        }
        var configuration = OTel.Configuration.default
        // OTEL_SERVICE_NAME, when set, overrides it (swift-otel reads the variables itself).
        configuration.serviceName = "porter"
        configuration.diagnosticLogger = .custom(logger)
        configuration.diagnosticLogLevel = .warning
        configuration.metrics.enabled = false
        configuration.logs.enabled = false
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        // Reads the variables from `environment` (not necessarily the process's: the
        // benchmark's --tracing points them at its own sink), and bootstraps the tracer only.
        return try OTel.bootstrap(configuration: configuration, environment: environment)
    }
}
