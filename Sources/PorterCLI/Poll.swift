/// Polls `condition` every `interval` until it returns a value. With a `timeout` it fails
/// after that long; without one (a benchmark, which either finishes or is stopped) it waits on.
package func poll<T>(
    _ what: String, every interval: Duration = .milliseconds(50), timeout: Duration? = nil,
    _ condition: () async throws -> T?
) async throws -> T {
    let deadline = timeout.map { ContinuousClock.now + $0 }
    while true {
        if let value = try await condition() { return value }
        if let deadline, let timeout, ContinuousClock.now >= deadline {
            throw CommandFailure(message: "timed out after \(timeout) waiting for \(what)")
        }
        try await Task.sleep(for: interval)
    }
}

/// Waits until `condition` holds.
package func poll(
    _ what: String, every interval: Duration = .milliseconds(50), timeout: Duration? = nil,
    _ condition: () async throws -> Bool
) async throws {
    let _: Bool = try await poll(what, every: interval, timeout: timeout) { try await condition() ? true : nil }
}
