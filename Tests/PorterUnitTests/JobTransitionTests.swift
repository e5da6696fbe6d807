@testable import Porter
import PorterPostgres
import Testing

/// How every way an attempt can end moves its job's row: `JobTransition.after`, without a
/// database.
@Suite struct JobTransitionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var end: AttemptEnd
        var attempt: Int
        var maxAttempts: Int
        /// Times the job was orphaned before, of `max_orphaned` 3.
        var orphaned = 0
        var expected: JobTransition?
        var testDescription: String { "\(end) on attempt \(attempt) of \(maxAttempts), orphaned \(orphaned) of 3" }
    }

    static let result = PQJSON(text: #"{"rows": 42}"#)

    static let cases: [Case] = [
        Case(end: .returned(result), attempt: 1, maxAttempts: 1, expected: JobTransition(status: .finished, result: result)),
        Case(end: .returned(nil), attempt: 3, maxAttempts: 3, expected: JobTransition(status: .finished)),
        Case(end: .threw("boom", permanent: false), attempt: 1, maxAttempts: 3,
             expected: JobTransition(status: .scheduled, error: "boom", retryIn: .seconds(7))),
        Case(end: .threw("boom", permanent: false), attempt: 3, maxAttempts: 3, expected: JobTransition(status: .failed, error: "boom")),
        Case(end: .threw("boom", permanent: false), attempt: 1, maxAttempts: 1, expected: JobTransition(status: .failed, error: "boom")),
        Case(end: .threw("unknown method", permanent: true), attempt: 1, maxAttempts: 5,
             expected: JobTransition(status: .failed, error: "unknown method")),
        Case(end: .timedOut(seconds: 300), attempt: 1, maxAttempts: 2,
             expected: JobTransition(status: .scheduled, error: "timed out after 300 s", retryIn: .seconds(7))),
        Case(end: .timedOut(seconds: 300), attempt: 2, maxAttempts: 2,
             expected: JobTransition(status: .failed, error: "timed out after 300 s")),
        Case(end: .canceled, attempt: 1, maxAttempts: 3,
             expected: JobTransition(status: .canceled, error: "canceled while running (porter cancel)")),
        Case(end: .stoppedByShutdown, attempt: 2, maxAttempts: 3, expected: JobTransition(status: .queued)),
        Case(end: .lostClaim, attempt: 1, maxAttempts: 1, expected: nil),
        Case(end: .finishedInOwnTransaction, attempt: 1, maxAttempts: 1, expected: nil),
        // A lost connection uses no attempt, even the last one; it counts as orphaned.
        Case(end: .connectionLost("server closed the connection"), attempt: 1, maxAttempts: 1,
             expected: JobTransition(
                status: .queued, error: "connection lost while running the job; requeued without using an attempt: server closed the connection",
                orphaned: true)),
        Case(end: .connectionLost("server closed the connection"), attempt: 2, maxAttempts: 3, orphaned: 1,
             expected: JobTransition(
                status: .queued, error: "connection lost while running the job; requeued without using an attempt: server closed the connection",
                orphaned: true)),
        // ... until it is the max_orphaned-th time: poison.
        Case(end: .connectionLost("server closed the connection"), attempt: 1, maxAttempts: 5, orphaned: 2,
             expected: JobTransition(
                status: .failed,
                error: "failed as a poison job: orphaned 3 times (its worker died or lost its connection while running it); last: server closed the connection",
                orphaned: true)),
        // Handed back to a worker that knows the method: untouched.
        Case(end: .handedBack, attempt: 1, maxAttempts: 1, expected: JobTransition(status: .queued)),
        Case(end: .handedBack, attempt: 1, maxAttempts: 1, orphaned: 2, expected: JobTransition(status: .queued)),
    ]

    @Test(arguments: cases) func anAttemptsEndDecidesItsJobsTransition(_ test: Case) {
        let transition = JobTransition.after(
            test.end, attempt: test.attempt, maxAttempts: test.maxAttempts, orphaned: test.orphaned, maxOrphaned: 3
        ) { _ in .seconds(7) }
        #expect(transition == test.expected)
    }

    @Test func aJobWhoseClaimAnswerWasLostGoesBackOrphanedOrFailsAsPoison() {
        let requeued = JobTransition.afterLostClaimAnswer(orphaned: 0, maxOrphaned: 3)
        #expect(requeued.status == .queued)
        #expect(requeued.orphaned)
        #expect(requeued.error?.contains("did not run") == true)
        let poison = JobTransition.afterLostClaimAnswer(orphaned: 2, maxOrphaned: 3)
        #expect(poison.status == .failed)
        #expect(poison.orphaned)
        #expect(poison.error?.hasPrefix(PoisonRule.error(orphanedTimes: 3)) == true)
    }

    @Test func theRetryDelayIsTheOneAfterTheFailedAttempt() {
        var asked: [Int] = []
        _ = JobTransition.after(.threw("x", permanent: false), attempt: 4, maxAttempts: 9, orphaned: 0, maxOrphaned: 3) { attempt in
            asked.append(attempt)
            return .seconds(1)
        }
        #expect(asked == [4])
    }

    @Test(arguments: [
        String(repeating: "m", count: 4100), String(repeating: "€", count: 3000), String(repeating: "👍🏽", count: 2000),
        String(repeating: "a", count: 3999) + "€",
    ])
    func errorTextIsCutByBytesAtACharacterBoundary(_ error: String) throws {
        let transition = JobTransition(status: .failed, error: error)
        let stored = try #require(transition.error)
        #expect(stored.utf8.count <= JobTransition.maxErrorBytes)
        #expect(stored.hasSuffix("(cut to 4000 bytes)"))
        // Whole characters only: the kept part is a prefix of the original.
        #expect(error.hasPrefix(String(stored.dropLast(" … (cut to 4000 bytes)".count))))
    }

    @Test func aStoppedOrFencedAttemptEndsAsItsReasonSays() {
        #expect(JobControl.StopReason.canceled.end == .canceled)
        #expect(JobControl.StopReason.shutdown.end == .stoppedByShutdown)
        #expect(JobControl.StopReason.lostClaim.end == .lostClaim)
        // A fenced worker gives the job back as a lost connection does, counted in orphaned.
        guard case .connectionLost = JobControl.StopReason.fenced.end else {
            Issue.record("fenced ends as \(JobControl.StopReason.fenced.end)")
            return
        }
    }

    @Test func aConnectionLostErrorFromAHandlerIsNotTheJobsFailure() {
        let lost = PQError(code: .connectionClosed, message: "server closed the connection unexpectedly")
        guard case .connectionLost = AttemptEnd.failure(lost) else {
            Issue.record("\(AttemptEnd.failure(lost))")
            return
        }
        let shutdown = PQError(code: .server, message: "terminating connection due to administrator command", sqlState: .adminShutdown)
        guard case .connectionLost = AttemptEnd.failure(shutdown) else {
            Issue.record("\(AttemptEnd.failure(shutdown))")
            return
        }
        let own = PQError(code: .server, message: "stock level unavailable", sqlState: .raiseException)
        #expect(AttemptEnd.failure(own) == .threw(own.description, permanent: false))
    }

    @Test func shortErrorTextIsKeptAsItIs() {
        let error = String(repeating: "€", count: 1333)  // 3,999 bytes
        #expect(JobTransition(status: .failed, error: error).error == error)
    }
}


/// Which failures of a completion statement keep its batch for another try, and which split it
/// to find the job at fault.
@Suite struct CompletionRetryTests {
    @Test(arguments: [
        PQError(code: .connectionClosed, message: "server closed the connection unexpectedly"),
        PQError(code: .server, message: "terminating connection due to administrator command", sqlState: SQLState("57P01")),
        PQError(code: .server, message: "deadlock detected", sqlState: SQLState("40P01")),
        PQError(code: .server, message: "could not serialize access", sqlState: SQLState("40001")),
        PQError(code: .server, message: "canceling statement due to lock timeout", sqlState: SQLState("55P03")),
    ])
    func transientFailuresKeepTheBatchForAnotherTry(_ error: PQError) {
        #expect(JobCompleter.isTransient(error))
    }

    @Test(arguments: [
        PQError(code: .server, message: "unsupported Unicode escape sequence", sqlState: SQLState("22P05")),
        PQError(code: .server, message: "payload string too long", sqlState: SQLState("22023")),
        PQError(code: .server, message: "new row violates check constraint", sqlState: SQLState("23514")),
        PQError(code: .server, message: "canceling statement due to statement timeout", sqlState: SQLState("57014")),
    ])
    func aBatchsOwnFailuresSplitIt(_ error: PQError) {
        #expect(!JobCompleter.isTransient(error))
    }
}
