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
await PorterCLI.main(registry: registry, adding: PorterDemo.commands + PorterBench.commands)
