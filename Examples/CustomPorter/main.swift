// A service's own `porter`: its Swift jobs registered, and every porter command (worker,
// enqueue, jobs, retry, cancel, ...) available, exactly as in the built-in executable.
//
//   swift run porter-example-custom-porter worker --queue short,default
import Porter
import PorterCLI

struct SendConfirmation: Job {
    static let method = "orders.send_confirmation"
    var orderID: Int
}

var registry = JobRegistry()
registry.register(SendConfirmation.self) { job, context in
    context.logger.info("confirmation sent", metadata: ["order": "\(job.orderID)"])
}
await PorterCLI.main(registry: registry)
