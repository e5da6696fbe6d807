import Foundation

/// The figures a worker reports for `porter.stats()` at every heartbeat, per queue it serves:
/// its slots and how many are busy, the jobs it finished in the last minute, and histograms of
/// the last five minutes' wait and run times. Jobs add to it as they start and end; the
/// heartbeat reads it. Nothing here touches the database.
///
/// A histogram counts times per bucket: bucket k holds 0.1 ms × 2^(k/8) up to the next one,
/// the rule `porter.stats_bucket_seconds` (migration 0016) reads them back with. So the
/// database can add up any number of workers' histograms and read percentiles from the sum.
final class WorkerStatistics: @unchecked Sendable {
    /// What the heartbeat writes into `porter.workers.stats`.
    struct Report: Encodable, Sendable {
        /// Seconds of silence after which this worker counts as dead, for porter.stats()'s
        /// count of live workers.
        var rescueAfter: Double
        var queues: [String: QueueReport]

        enum CodingKeys: String, CodingKey {
            case rescueAfter = "rescue_after", queues
        }
    }

    struct QueueReport: Encodable, Sendable, Equatable {
        var slots: Int
        var busy: Int
        /// Jobs finished in the last minute.
        var finished: Int
        /// Bucket (as text, a JSON object's key) to count, over the last five minutes.
        var wait: [String: Int]
        var run: [String: Int]
    }

    /// The smallest time a bucket tells apart, in seconds.
    static let bucketBase = 0.0001
    /// Buckets per doubling.
    static let bucketsPerDoubling = 8.0
    /// The last bucket: about 58 days; longer times are counted in it.
    static let maxBucket = 350

    /// The bucket `seconds` falls in.
    static func bucket(seconds: Double) -> Int {
        guard seconds.isFinite, seconds > bucketBase else { return 0 }
        return min(maxBucket, Int((log2(seconds / bucketBase) * bucketsPerDoubling).rounded(.down)))
    }

    /// What `porter.stats_bucket_seconds` returns for a bucket: its geometric middle.
    static func seconds(ofBucket bucket: Int) -> Double {
        bucketBase * pow(2, (Double(bucket) + 0.5) / bucketsPerDoubling)
    }

    /// One queue's figures; a class, so that each job's start and end finds its queue's with
    /// one lookup and changes it in place.
    private final class Window {
        var slots = 0
        var busy = 0
        var finishedPerSecond = [Int](repeating: 0, count: 60)
        var secondOf = [Int](repeating: -1, count: 60)
        var waitPerMinute = [[Int: Int]](repeating: [:], count: 5)
        var runPerMinute = [[Int: Int]](repeating: [:], count: 5)
        var minuteOf = [Int](repeating: -1, count: 5)

        func enterSecond(_ second: Int) -> Int {
            let slot = second % 60
            if secondOf[slot] != second {
                secondOf[slot] = second
                finishedPerSecond[slot] = 0
            }
            return slot
        }

        func enterMinute(_ minute: Int) -> Int {
            let slot = minute % 5
            if minuteOf[slot] != minute {
                minuteOf[slot] = minute
                waitPerMinute[slot].removeAll(keepingCapacity: true)
                runPerMinute[slot].removeAll(keepingCapacity: true)
            }
            return slot
        }
    }

    private let lock = NSLock()
    private var windows: [String: Window] = [:]
    private let origin: ContinuousClock.Instant

    init(slots: [String: Int], origin: ContinuousClock.Instant = .now) {
        self.origin = origin
        for (queue, count) in slots { window(queue).slots += count }
    }

    /// `queue`'s figures, made on first use; under the lock.
    private func window(_ queue: String) -> Window {
        if let window = windows[queue] { return window }
        let window = Window()
        windows[queue] = window
        return window
    }

    private func second(_ now: ContinuousClock.Instant) -> Int {
        max(0, Int((now - origin).components.seconds))
    }

    /// A slot of `queue` took a job that waited `wait` seconds to be claimed.
    func started(queue: String, wait: Double, at now: ContinuousClock.Instant = .now) {
        let minute = second(now) / 60
        let bucket = Self.bucket(seconds: wait)
        lock.withLock {
            let window = window(queue)
            window.busy += 1
            window.waitPerMinute[window.enterMinute(minute)][bucket, default: 0] += 1
        }
    }

    /// A slot of `queue` is free again.
    func freed(queue: String) {
        lock.withLock { window(queue).busy -= 1 }
    }

    /// An attempt of a job of `queue` ended after running `ran`; `finished` when it succeeded.
    func ended(queue: String, finished: Bool, ran: Duration, at now: ContinuousClock.Instant = .now) {
        let second = second(now)
        let bucket = Self.bucket(seconds: ran.seconds)
        lock.withLock {
            let window = window(queue)
            window.runPerMinute[window.enterMinute(second / 60)][bucket, default: 0] += 1
            if finished { window.finishedPerSecond[window.enterSecond(second)] += 1 }
        }
    }

    /// Every queue's figures now.
    func report(at now: ContinuousClock.Instant = .now) -> [String: QueueReport] {
        let second = second(now)
        let minute = second / 60
        return lock.withLock {
            windows.mapValues { window in
                var finished = 0
                for slot in 0..<60 where window.secondOf[slot] > second - 60 { finished += window.finishedPerSecond[slot] }
                var wait: [String: Int] = [:]
                var run: [String: Int] = [:]
                for slot in 0..<5 where window.minuteOf[slot] > minute - 5 {
                    for (bucket, count) in window.waitPerMinute[slot] { wait[String(bucket), default: 0] += count }
                    for (bucket, count) in window.runPerMinute[slot] { run[String(bucket), default: 0] += count }
                }
                return QueueReport(slots: window.slots, busy: window.busy, finished: finished, wait: wait, run: run)
            }
        }
    }
}
