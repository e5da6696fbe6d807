import Foundation
import Logging
import Porter
import PorterPostgres

/// The dashboard's server-sent events, from one `RealtimeListener` on `porter_realtime` shared
/// by every open page. A page gets `progress` events (`{"job", "percent", "title",
/// "description"}`), the latest per job every 100 ms at most, so a job reporting a thousand
/// steps a second cannot flood a browser; and `changed` at most once a second when jobs
/// changed state or a queue was paused or resumed, upon which it reloads what it shows.
final class DashboardEvents: @unchecked Sendable {
    private let listener: RealtimeListener
    private let logger: Logger
    private let lock = NSLock()
    private var subscribers: [Int: AsyncStream<String>.Continuation] = [:]
    private var nextSubscriber = 0
    private var pendingProgress: [Int64: String] = [:]
    private var changed = false
    private var finished = false
    private let stop = AsyncStream<Void>.makeStream()

    init(client: PorterClient, logger: Logger) {
        self.listener = RealtimeListener(client: client, logger: logger)
        self.logger = logger
    }

    /// Where running jobs stand now, from their stored progress: a page's starting point.
    func currentProgress() async throws -> [RealtimeEvent] {
        try await listener.currentProgress()
    }

    /// A page's stream of SSE frames, until the page goes or the dashboard stops.
    func subscribe() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let id: Int? = lock.withLock {
            guard !finished else { return nil }
            nextSubscriber += 1
            subscribers[nextSubscriber] = continuation
            return nextSubscriber
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.lock.withLock { _ = self?.subscribers.removeValue(forKey: id) }
        }
        // Tells the browser to reconnect after 2 s if the stream breaks.
        continuation.yield("retry: 2000\n\n")
        return stream
    }

    /// Ends every stream; `run()` returns.
    func finish() {
        let open = lock.withLock { () -> [AsyncStream<String>.Continuation] in
            finished = true
            defer { subscribers.removeAll() }
            return Array(subscribers.values)
        }
        for continuation in open { continuation.finish() }
        stop.continuation.finish()
    }

    /// Listens and fans out until `finish()` or cancellation.
    func run() async {
        let listener = listener
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled && !isFinished {
            do {
                try await listener.start()
                break
            } catch {
                logger.info("dashboard cannot listen to porter_realtime yet; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                for await event in listener.events() { receive(event) }
            }
            group.addTask { [self] in
                // Flushes every 100 ms; a keep-alive comment every 15 s lets a broken
                // connection be noticed and a proxy keep the stream open.
                var ticks = 0
                var lastChanged = ContinuousClock.now - .seconds(1)
                while !Task.isCancelled && !isFinished {
                    try? await Task.sleep(for: .milliseconds(100))
                    ticks += 1
                    var frames = takeProgress()
                    if ContinuousClock.now - lastChanged >= .seconds(1), takeChanged() {
                        frames.append("event: changed\ndata: {}\n\n")
                        lastChanged = .now
                    }
                    if ticks % 150 == 0 { frames.append(": keep-alive\n\n") }
                    if !frames.isEmpty { broadcast(frames.joined()) }
                }
            }
            group.addTask { [stop] in
                for await _ in stop.stream {}
            }
            await group.next()
            listener.stop()
            group.cancelAll()
        }
    }

    private var isFinished: Bool { lock.withLock { finished } }

    private func receive(_ event: RealtimeEvent) {
        if let progress = event.progress, let job = event.job {
            var object: [String: Any] = ["job": job, "percent": progress.percent]
            object["title"] = progress.title
            object["description"] = progress.description
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            let frame = "event: progress\ndata: \(String(decoding: data, as: UTF8.self))\n\n"
            lock.withLock { pendingProgress[job] = frame }
        } else {
            lock.withLock { changed = true }
        }
    }

    private func takeProgress() -> [String] {
        lock.withLock {
            defer { pendingProgress.removeAll() }
            return pendingProgress.sorted { $0.key < $1.key }.map(\.value)
        }
    }

    private func takeChanged() -> Bool {
        lock.withLock {
            defer { changed = false }
            return changed
        }
    }

    private func broadcast(_ text: String) {
        for continuation in lock.withLock({ Array(subscribers.values) }) { continuation.yield(text) }
    }
}
