import Porter
import PorterBench
import PorterCLI
import PorterDemo
import PorterWeb

// The built-in jobs every `porter worker` can run.
var registry = JobRegistry()
registry.register(method: "porter.noop") { _, _ in nil }
// The metrics endpoint and the dashboard, which only this executable carries.
PorterWeb.install()
// The span exporter, only when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT asks for it.
PorterCLI.traceExport = OTelTraceExport()
await PorterCLI.main(registry: registry, adding: PorterDemo.commands + PorterBench.commands)
