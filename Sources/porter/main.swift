import Porter
import PorterBench
import PorterCLI
import PorterDemo

// The built-in jobs every `porter worker` can run.
var registry = JobRegistry()
registry.register(method: "porter.noop") { _, _ in nil }
await PorterCLI.main(registry: registry, adding: PorterDemo.commands + PorterBench.commands)
