import Foundation
import Porter

/// `porter watch` on a terminal: a live progress bar per running job, redrawn in place below
/// a scrolling log of the other events.
package final class ProgressBoard: EventOutput {
    /// The last progress of each running job.
    private var bars: [Int64: RealtimeEvent.Progress] = [:]
    /// How many bar lines are on screen, to move back over them before redrawing.
    private var drawn = 0

    func show(_ event: RealtimeEvent) {
        var lines: [String] = []
        if let progress = event.progress, let job = event.job {
            bars[job] = progress
        } else {
            if let job = event.job, ["finished", "failed", "canceled"].contains(event.event) { bars[job] = nil }
            lines.append(Self.line(for: event))
        }
        redraw(appending: lines)
    }

    private func redraw(appending lines: [String]) {
        var screen = String(repeating: "\u{1B}[1A\u{1B}[2K", count: drawn)
        for line in lines { screen += line + "\n" }
        let width = Self.terminalWidth()
        let rows = bars.sorted { $0.key < $1.key }.map { Self.render(label: "job \($0.key)", progress: $0.value, width: width) }
        for row in rows { screen += row + "\n" }
        drawn = rows.count
        FileHandle.standardOutput.write(Data(screen.utf8))
    }

    /// `job 42  [#########-----------]  45%  Syncing stock: outlet 225 of 500`, cut to `width`.
    package static func render(label: String, progress bar: RealtimeEvent.Progress, width: Int) -> String {
        let cells = 24
        let filled = max(0, min(cells, Int((bar.percent / 100 * Double(cells)).rounded())))
        var text = label + "  [" + String(repeating: "#", count: filled) + String(repeating: "-", count: cells - filled) + "] "
        text += String(format: "%3.0f%%", bar.percent)
        let caption = [bar.title, bar.description].compactMap { $0 }.joined(separator: ": ")
        if !caption.isEmpty { text += "  " + caption }
        return String(text.prefix(max(20, width - 1)))
    }

    /// One event as a person reads it, not as JSON:
    /// `12:00:01  job 42 failed  orders.send_confirmation on short, attempt 2: timed out after 5 s`
    /// for a job's state change, and `12:00:02  stock_sync_done  job 42  total=500 errors=29` for
    /// any other event, its message's keys in order. The time is on the 24-hour clock in
    /// `timeZone`: a 12-hour one without AM or PM showed 13:52 as 01:52.
    static func line(for event: RealtimeEvent, at date: Date = Date(), in timeZone: TimeZone = .current) -> String {
        let clock = DateFormatter()
        clock.locale = Locale(identifier: "en_US_POSIX")
        clock.timeZone = timeZone
        clock.dateFormat = "HH:mm:ss"
        let time = clock.string(from: date)
        let message = (try? JSONSerialization.jsonObject(with: Data(event.message.text.utf8))) as? [String: Any] ?? [:]
        if let job = event.job, let status = message["status"] as? String, status == event.event,
            let method = message["method"] as? String
        {
            var text = "\(time)  job \(job) \(status)  \(method)"
            if let queue = message["queue"] as? String { text += " on \(queue)" }
            if let attempt = (message["attempt"] as? NSNumber)?.intValue { text += ", attempt \(attempt)" }
            if let error = message["error"] as? String, !error.isEmpty { text += ": " + error }
            return text
        }
        var text = "\(time)  \(event.event)"
        if let job = event.job { text += "  job \(job)" }
        let pairs = message.keys.sorted().map { "\($0)=\(Self.value(message[$0] as Any))" }
        if !pairs.isEmpty { text += "  " + pairs.joined(separator: " ") }
        return text
    }

    /// A message value: strings as they are (quoted when they hold a space), numbers and
    /// booleans as written, arrays and objects as compact JSON cut to 80 characters.
    private static func value(_ value: Any) -> String {
        switch value {
        case let text as String:
            return text.contains(" ") || text.isEmpty ? "\"\(text)\"" : text
        case let number as NSNumber:
            // JSON's true and false come back as NSNumbers of a `char` (objCType "c").
            return String(cString: number.objCType) == "c" ? (number.boolValue ? "true" : "false") : number.stringValue
        case is NSNull:
            return "null"
        default:
            guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]) else {
                return "\(value)"
            }
            let json = String(decoding: data, as: UTF8.self)
            return json.count > 80 ? String(json.prefix(79)) + "…" : json
        }
    }

    package static func terminalWidth() -> Int {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 100 }
        return Int(size.ws_col)
    }
}
