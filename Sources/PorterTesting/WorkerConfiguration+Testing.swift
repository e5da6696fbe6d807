import Porter

extension WorkerConfiguration {
    /// Settings that make a worker react in tenths of seconds, for tests: polls every 100 ms,
    /// heartbeats every 200 ms, maintenance every 200 ms, retries after 50 ms (up to 1 s, no
    /// jitter), 300 ms of cancel grace and 5 s of shutdown grace. The rescue comes after 6 s,
    /// 30 heartbeats, so that a test machine under load never takes a live in-process worker
    /// for dead, nor makes it fence itself off. `change` adjusts the rest.
    public static func forTests(_ change: (inout WorkerConfiguration) -> Void = { _ in }) -> WorkerConfiguration {
        var configuration = WorkerConfiguration(
            pollInterval: .milliseconds(100), heartbeatInterval: .milliseconds(200), rescueAfter: .seconds(6),
            maintenanceInterval: .milliseconds(200), shutdownGrace: .seconds(5), cancelGrace: .milliseconds(300),
            retryPolicy: RetryPolicy(base: .milliseconds(50), maximum: .seconds(1), jitter: 0))
        change(&configuration)
        return configuration
    }
}
