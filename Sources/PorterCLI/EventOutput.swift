import Foundation
import Porter

/// Where `porter watch` writes events.
protocol EventOutput {
    func show(_ event: RealtimeEvent)
}

/// One JSON object per event and line, for pipes and other programs.
struct JSONLinesOutput: EventOutput {
    func show(_ event: RealtimeEvent) {
        let name = (try? JSONEncoder().encode(event.event)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
        let line = "{\"event\":" + name + ",\"job\":" + (event.job.map(String.init) ?? "null") + ",\"message\":" + event.message.text + "}\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}
