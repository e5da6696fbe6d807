import Foundation
import Logging
import ServiceLifecycle

/// The `porter` executable's span exporter (swift-otel, OTLP/HTTP). It lives in the
/// executable's own target, so that PorterCLI, a product users link, carries no exporter:
/// `porter`'s main sets `PorterCLI.traceExport`; an executable built on PorterCLI alone has
/// none, and bootstraps its own tracer if it wants one.
package protocol TraceExport: Sendable {
    /// When `environment` asks for an export (`OTEL_EXPORTER_OTLP_ENDPOINT` or
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` set), bootstraps the process's tracer and returns
    /// the exporter's Service, to run in the command's ServiceGroup so that a graceful shutdown
    /// flushes its spans; nil, and nothing bootstrapped, when it does not. Throws, naming the
    /// variable, when a setting cannot be honoured (`grpc`, which this build does not carry).
    /// Once per process.
    func bootstrap(environment: [String: String], logger: Logger) throws -> (any Service)?
}

extension PorterCLI {
    /// The services `porter worker`, `scheduler` and `dashboard` run first in their group
    /// (shutdown stops them last, so every span ends before the exporter flushes): the span
    /// exporter when the environment asks for one, else none.
    static func traceExportServices(logger: Logger) throws -> [ServiceGroupConfiguration.ServiceConfiguration] {
        guard let traceExport else { return [] }
        do {
            guard let service = try traceExport.bootstrap(environment: ProcessInfo.processInfo.environment, logger: logger) else {
                return []
            }
            return [.init(service: service)]
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure(message: "cannot export traces: \(error)")
        }
    }
}
