/// Waits for a condition instead of sleeping a fixed time: polls `condition` until it holds
/// or `timeout` passes, and throws `TimedOut` then. Tests wait on database state this way.
public func waitUntil(
    timeout: Duration = .seconds(10),
    every interval: Duration = .milliseconds(20),
    _ what: @autoclosure () -> String = "condition",
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
        if try await condition() { return }
        if clock.now >= deadline { throw TimedOut(what: what(), timeout: timeout) }
        try await Task.sleep(for: interval)
    }
}

/// Thrown by `waitUntil` when the condition did not hold in time.
public struct TimedOut: Error, CustomStringConvertible {
    /// What was awaited, as the caller described it: `job 42 to be finished`.
    public var what: String
    /// How long it was awaited.
    public var timeout: Duration
    /// `timed out after 10.0 seconds waiting for job 42 to be finished`
    public var description: String { "timed out after \(timeout) waiting for \(what)" }
}
