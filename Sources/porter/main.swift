import Porter
import PorterCLI

// The built-in jobs every `porter worker` can run.
var registry = JobRegistry()
registry.register(method: "porter.noop") { _, _ in nil }
await PorterCLI.main(registry: registry)
