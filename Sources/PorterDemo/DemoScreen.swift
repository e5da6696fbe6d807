import Foundation
import Porter
import PorterCLI

/// The demo's screen: the sync's live progress (a bar redrawn in place on a terminal, a line
/// per 10 % otherwise) between the steps' own lines.
actor DemoScreen {
    struct Summary: Decodable, Sendable {
        struct OutletError: Decodable, Sendable {
            var outlet: String
            var error: String
        }
        var total: Int
        var success: Int
        var errors: Int
        var firstErrors: [OutletError]

        enum CodingKeys: String, CodingKey {
            case total, success, errors, firstErrors = "first_errors"
        }
    }

    let live: Bool
    private var barShown = false
    private var lastDecile = -1
    private(set) var summary: Summary?

    init(live: Bool) { self.live = live }

    func follow(_ events: AsyncStream<RealtimeEvent>, syncJob: Int64) async {
        for await event in events where event.job == syncJob {
            switch event.event {
            case "progress":
                if let progress = event.progress { show(progress) }
            case "stock_sync_resumed":
                struct Resumed: Decodable { var chunk: Int; var committed_outlets: Int }
                if let resumed = try? event.message.decode(Resumed.self) {
                    line("   event stock_sync_resumed: resuming at chunk \(resumed.chunk); the \(resumed.committed_outlets) outlets already committed are not redone")
                }
                lastDecile = -1
            case "stock_sync_done":
                summary = try? event.message.decode(Summary.self)
            default:
                break
            }
        }
    }

    func line(_ text: String) {
        clearBar()
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    private func show(_ progress: RealtimeEvent.Progress) {
        let text = ProgressBoard.render(label: " ", progress: progress, width: ProgressBoard.terminalWidth())
        if live {
            FileHandle.standardOutput.write(Data(("\r\u{1B}[2K" + text).utf8))
            barShown = true
        } else if Int(progress.percent / 10) != lastDecile {
            lastDecile = Int(progress.percent / 10)
            FileHandle.standardOutput.write(Data((text + "\n").utf8))
        }
    }

    private func clearBar() {
        guard barShown else { return }
        FileHandle.standardOutput.write(Data("\r\u{1B}[2K".utf8))
        barShown = false
    }
}
