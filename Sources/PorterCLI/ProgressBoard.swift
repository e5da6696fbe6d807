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

    /// `12:00:01  finished  job 42  {"status": "finished", ...}`
    static func line(for event: RealtimeEvent) -> String {
        let time = Date().formatted(.dateTime.hour(.twoDigits(amPM: .omitted)).minute(.twoDigits).second(.twoDigits))
        var text = "\(time)  \(event.event)"
        if let job = event.job { text += "  job \(job)" }
        return text + "  " + event.message.text
    }

    package static func terminalWidth() -> Int {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 100 }
        return Int(size.ws_col)
    }
}
