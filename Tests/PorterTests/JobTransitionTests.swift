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
        var expected: JobTransition?
        var testDescription: String { "\(end) on attempt \(attempt) of \(maxAttempts)" }
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
    ]

    @Test(arguments: cases) func anAttemptsEndDecidesItsJobsTransition(_ test: Case) {
        let transition = JobTransition.after(test.end, attempt: test.attempt, maxAttempts: test.maxAttempts) { _ in .seconds(7) }
        #expect(transition == test.expected)
    }

    @Test func theRetryDelayIsTheOneAfterTheFailedAttempt() {
        var asked: [Int] = []
        _ = JobTransition.after(.threw("x", permanent: false), attempt: 4, maxAttempts: 9) { attempt in
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
