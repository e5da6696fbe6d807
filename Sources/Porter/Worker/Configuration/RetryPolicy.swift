/// When a failed job runs again: exponential backoff with jitter, capped.
///
/// The n-th retry waits `base × 2^(n−1)`, at most `maximum`, then spread by ±`jitter` so jobs
/// that failed together do not all come back at once. With the defaults: about 3 s, 6 s, 12 s, ...
/// up to an hour.
public struct RetryPolicy: Sendable, Hashable {
    /// The first retry's delay. Config key `retry_backoff_base` (seconds). Default: 3 s.
    public var base: Duration
    /// The longest delay. Config key `retry_backoff_max` (seconds). Default: 1 hour.
    public var maximum: Duration
    /// The spread, as a fraction of the delay. Default: 0.25.
    public var jitter: Double

    /// A policy with the given base, maximum and jitter; the defaults are the config file's:
    /// 3 s, doubling, at most an hour, ±25 %.
    public init(base: Duration = .seconds(3), maximum: Duration = .seconds(3600), jitter: Double = 0.25) {
        self.base = base
        self.maximum = maximum
        self.jitter = jitter
    }

    /// The longest delay `delay(afterAttempt:)` returns: ten years.
    static let longestDelaySeconds: Double = 315_360_000

    /// The delay after failed attempt number `attempt` (1 for the first run). `random` is a
    /// number in 0..<1; pass a fixed one in tests.
    public func delay(afterAttempt attempt: Int, random: Double = Double.random(in: 0..<1)) -> Duration {
        let exponent = min(max(attempt - 1, 0), 40)
        let raw = base.seconds * Double(1 << min(exponent, 62))
        let capped = min(raw, maximum.seconds)
        let spread = capped * (1 + jitter * (2 * random - 1))
        // At most ten years, whatever `maximum` says: a delay must stay an interval the
        // database can add to now(), and a number that converts to Int64 without a trap.
        let seconds = min(max(0, min(spread, maximum.seconds)), Self.longestDelaySeconds)
        return .milliseconds(Int64(seconds.isFinite ? seconds * 1000 : 0))
    }
}

// `package`, not `public`: Porter's modules share these, and an app that imports Porter does not
// get members added to its own `Duration`.
extension Duration {
    /// The duration in seconds, as a `Double`.
    package var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// A duration from a number of seconds that may have a fraction, to the millisecond.
    ///
    /// `seconds` must be finite and within ±9.2 × 10¹⁵ (an `Int64` of milliseconds). Values
    /// from outside (the config file) are range-checked against their key before they get here.
    package static func seconds(fraction seconds: Double) -> Duration {
        let milliseconds = (seconds * 1000).rounded()
        precondition(
            milliseconds.isFinite && abs(milliseconds) < 9.2e18,
            "Duration.seconds(fraction: \(seconds)): the seconds must be finite and within ±9.2e15")
        return .milliseconds(Int64(milliseconds))
    }
}
