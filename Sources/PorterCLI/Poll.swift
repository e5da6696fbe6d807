/// Polls `condition` every 50 ms until it returns a value, or fails after `timeout`.
func poll<T>(_ what: String, timeout: Duration, _ condition: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try await condition() { return value }
        guard ContinuousClock.now < deadline else { throw CommandFailure(message: "timed out after \(timeout) waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// Waits until `condition` holds.
func poll(_ what: String, timeout: Duration, _ condition: () async throws -> Bool) async throws {
    let _: Bool = try await poll(what, timeout: timeout) { try await condition() ? true : nil }
}
