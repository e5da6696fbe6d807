import CLibPQ
import Foundation
import Logging

/// Receives the server's asynchronous messages for one connection: NOTICE and WARNING go to
/// swift-log instead of stderr (and to the connection's notice handler, when one is set), and
/// a FATAL sent to an idle session (the server ending it, as `pg_terminate_backend` or a
/// shutdown does) marks the connection as ending.
final class NoticeLogger: @unchecked Sendable {
    let logger: Logger
    private let lock = NSLock()
    private var fatalReceived = false
    private var handler: (@Sendable (PQNotice) -> Void)?

    /// Called with every notice until replaced or cleared; it runs on the connection's thread,
    /// in the middle of a statement, so it must return quickly.
    func setHandler(_ handler: (@Sendable (PQNotice) -> Void)?) {
        lock.withLock { self.handler = handler }
    }

    init(logger: Logger) { self.logger = logger }

    /// Whether the server announced it is ending this session.
    var serverEndedSession: Bool { lock.withLock { fatalReceived } }

    fileprivate func receive(severity: String, message: String, detail: String?) {
        if severity == "FATAL" || severity == "PANIC" {
            lock.withLock { fatalReceived = true }
        }
        if let handler = lock.withLock({ handler }) {
            handler(PQNotice(severity: severity, message: message, detail: detail))
        }
        // A FATAL to an idle session is the server ending it (a shutdown, pg_terminate_backend):
        // the pool or the listener replaces the connection, and a worker logs the outage once.
        let quiet = ["NOTICE", "DEBUG", "LOG", "FATAL", "PANIC"].contains(severity)
        let level: Logger.Level = quiet ? .debug : .info
        // One log entry, one line: a FATAL sent to an idle session can carry the whole
        // report ("...\nFATAL:  terminating connection ...\n") after its message.
        let line = message.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        logger.log(level: level, "\(line)", metadata: ["postgres.severity": "\(severity)"])
    }
}

func noticeReceiver(context: UnsafeMutableRawPointer?, result: OpaquePointer?) {
    guard let context, let result else { return }
    let notices = Unmanaged<NoticeLogger>.fromOpaque(context).takeUnretainedValue()
    let field = { (code: Character) -> String? in
        PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
    }
    notices.receive(severity: field("V") ?? "NOTICE", message: field("M") ?? "", detail: field("D"))
}
