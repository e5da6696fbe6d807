// What `porter jobs`, `porter retry`, `porter cancel` and `porter workers` do, from Swift.
import Porter

// snippet.hide
let porter = try PorterClient(databaseURL: "postgresql://localhost/app")
// snippet.show
for job in try await porter.jobs(status: .failed, queue: "short", limit: 20) {
    print(job.id, job.method, job.attempts, job.error ?? "")
    try await porter.retry(id: job.id)  // queued again; its canceled dependants come back too
}
switch try await porter.cancel(id: 42) {
case .canceled: print("canceled before it ran")
case .requested: print("running; its worker was asked to stop it")
}
for worker in try await porter.workers() {
    print(worker.host, worker.pid, worker.queues, worker.slotsBusy, worker.heartbeatAt)
}
