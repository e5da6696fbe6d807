/// One flow-control limit, as `porter.limits` shows it and `porter limit list` prints it: for
/// a queue as a whole, for one key of a queue, or for each key of a queue that has no limit of
/// its own. Set with `PorterClient.setLimit`, removed with `PorterClient.clearLimit`.
public struct QueueLimit: Sendable, Hashable, Codable {
    /// The queue the limit holds for.
    public var queue: String
    /// The one key it holds for; `nil` for the queue as a whole or, with `eachKey`, every key.
    public var limitKey: String?
    /// Whether it holds for every key of the queue that has no limit of its own, each apart.
    public var eachKey: Bool
    /// At most this many of the scope's jobs started and not ended at any instant; `nil`: no
    /// such limit.
    public var maxRunning: Int?
    /// At most this many starts in any window of `perSeconds`; `nil`: no such limit.
    public var maxStarts: Int?
    /// The length of the sliding window `maxStarts` is counted in, in seconds.
    public var perSeconds: Double?
    /// Whether claims take turns among the queue's keys (a queue's own limit only).
    public var fair: Bool

    /// A limit with every field given; the database refuses the combinations that
    /// `porter.set_limit` refuses.
    public init(
        queue: String, limitKey: String? = nil, eachKey: Bool = false, maxRunning: Int? = nil,
        maxStarts: Int? = nil, perSeconds: Double? = nil, fair: Bool = false
    ) {
        self.queue = queue
        self.limitKey = limitKey
        self.eachKey = eachKey
        self.maxRunning = maxRunning
        self.maxStarts = maxStarts
        self.perSeconds = perSeconds
        self.fair = fair
    }

    /// The longest window `perSeconds` takes: 100 years of 365.25 days, as porter.set_limit
    /// and run_at allow.
    public static let longestWindowSeconds: Double = 36_525 * 86_400

    /// The scope in words: `queue`, `each key` or `key`.
    public var scope: String {
        if limitKey != nil { return "key" }
        return eachKey ? "each key" : "queue"
    }

    enum CodingKeys: String, CodingKey {
        case queue, fair
        case limitKey = "limit_key", eachKey = "each_key", maxRunning = "max_running", maxStarts = "max_starts"
        case perSeconds = "per_seconds"
    }
}
