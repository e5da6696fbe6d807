@testable import Porter
import Testing

/// The claim loop's decisions, without a database: when it claims and how many, how it backs
/// off while the database is away, and how shutdown ends.
@Suite struct ClaimLoopTests {
    let now = ContinuousClock.now

    @Test func aNewLoopClaimsEverySlotAtStart() {
        var loop = ClaimLoop(capacity: 10)
        #expect(loop.next(after: .wake, inFlight: 0, fenced: false, now: now) == .claim(limit: 10))
    }

    @Test func aShortClaimStopsClaimingUntilTheNextWake() {
        var loop = ClaimLoop(capacity: 10)
        _ = loop.next(after: .wake, inFlight: 0, fenced: false, now: now)
        #expect(loop.record(.claimed(count: 3, limit: 10), now: now) == nil)
        #expect(!loop.mayHaveWaitingJobs)
        // Slots freed by the three jobs do not send a claim: nothing was left waiting.
        #expect(loop.next(after: .slotsFreed, inFlight: 0, fenced: false, now: now) == .idle)
        // An enqueue notification does.
        #expect(loop.next(after: .wake, inFlight: 2, fenced: false, now: now) == .claim(limit: 8))
    }

    @Test func aFullClaimClaimsAgainWhenHalfTheSlotsAreFree() {
        var loop = ClaimLoop(capacity: 10)
        _ = loop.next(after: .wake, inFlight: 0, fenced: false, now: now)
        _ = loop.record(.claimed(count: 10, limit: 10), now: now)
        #expect(loop.mayHaveWaitingJobs)
        // Fewer than half free: wait for a bigger batch.
        #expect(loop.next(after: .slotsFreed, inFlight: 7, fenced: false, now: now) == .idle)
        #expect(loop.next(after: .slotsFreed, inFlight: 5, fenced: false, now: now) == .claim(limit: 5))
    }

    @Test func aWakeClaimsWhateverSlotsAreFree() {
        var loop = ClaimLoop(capacity: 10)
        _ = loop.next(after: .wake, inFlight: 0, fenced: false, now: now)
        _ = loop.record(.claimed(count: 10, limit: 10), now: now)
        #expect(loop.next(after: .wake, inFlight: 9, fenced: false, now: now) == .claim(limit: 1))
        #expect(loop.next(after: .wake, inFlight: 10, fenced: false, now: now) == .idle)
    }

    @Test func aFencedWorkerClaimsNothing() {
        var loop = ClaimLoop(capacity: 4)
        #expect(loop.next(after: .wake, inFlight: 0, fenced: true, now: now) == .idle)
        #expect(loop.next(after: .wake, inFlight: 0, fenced: false, now: now) == .claim(limit: 4))
    }

    @Test func claimsBackOffWhileTheDatabaseIsUnreachableAndResumeAfter() {
        var loop = ClaimLoop(capacity: 4)
        _ = loop.next(after: .wake, inFlight: 0, fenced: false, now: now)
        #expect(loop.record(.unreachable, now: now) == nil)
        // Wakes before the backoff has passed claim nothing.
        #expect(loop.next(after: .wake, inFlight: 0, fenced: false, now: now) == .idle)
        let later = now + DatabaseOutage.backoff(afterFailures: 1)
        #expect(loop.next(after: .wake, inFlight: 0, fenced: false, now: later) == .claim(limit: 4))
        // A second failure waits at least as long; a success clears the backoff.
        _ = loop.record(.unreachable, now: later)
        #expect(loop.next(after: .wake, inFlight: 0, fenced: false, now: later) == .idle)
        let after = later + DatabaseOutage.backoff(afterFailures: 2)
        #expect(loop.next(after: .wake, inFlight: 0, fenced: false, now: after) == .claim(limit: 4))
        _ = loop.record(.claimed(count: 4, limit: 4), now: after)
        #expect(loop.next(after: .wake, inFlight: 0, fenced: false, now: after) == .claim(limit: 4))
    }

    @Test func aFailingClaimIsReportedOnceAndItsRecoveryOnce() {
        var loop = ClaimLoop(capacity: 4)
        #expect(loop.record(.failed, now: now) == .failing)
        #expect(loop.record(.failed, now: now) == nil)
        // A failure other than an outage does not back off: the next poll tries again.
        #expect(loop.next(after: .wake, inFlight: 0, fenced: false, now: now) == .claim(limit: 4))
        #expect(loop.record(.claimed(count: 0, limit: 4), now: now) == .succeedingAgain)
        #expect(loop.record(.claimed(count: 0, limit: 4), now: now) == nil)
    }

    @Test func shutdownWithNothingRunningExitsAtOnce() {
        var loop = ClaimLoop(capacity: 4)
        #expect(loop.next(after: .shutdown, inFlight: 0, fenced: false, now: now) == .exit)
    }

    @Test func shutdownWaitsForRunningJobsAndClaimsNoMore() {
        var loop = ClaimLoop(capacity: 4)
        #expect(loop.next(after: .shutdown, inFlight: 3, fenced: false, now: now) == .startGraceTimer)
        #expect(loop.isStopping)
        // A second shutdown does not start a second timer.
        #expect(loop.next(after: .shutdown, inFlight: 3, fenced: false, now: now) == .idle)
        #expect(loop.next(after: .wake, inFlight: 2, fenced: false, now: now) == .idle)
        #expect(loop.next(after: .slotsFreed, inFlight: 0, fenced: false, now: now) == .exit)
    }

    @Test func theGracePeriodsEndStopsRunningJobsThenExitsWhenTheyHaveEnded() {
        var loop = ClaimLoop(capacity: 4)
        _ = loop.next(after: .shutdown, inFlight: 2, fenced: false, now: now)
        #expect(loop.next(after: .graceOver, inFlight: 2, fenced: false, now: now) == .stopRunningJobs)
        #expect(loop.next(after: .slotsFreed, inFlight: 0, fenced: false, now: now) == .exit)
    }

    @Test func aSlotCountBelowZeroNeitherClaimsPastCapacityNorHoldsUpShutdown() {
        // A slot freed twice (a bug) leaves the count at -1: claims stay within capacity, and
        // shutdown ends instead of waiting for a count of exactly zero.
        var loop = ClaimLoop(capacity: 4)
        #expect(loop.next(after: .wake, inFlight: -1, fenced: false, now: now) == .claim(limit: 4))
        #expect(loop.next(after: .shutdown, inFlight: -1, fenced: false, now: now) == .exit)
        var stopping = ClaimLoop(capacity: 4)
        #expect(stopping.next(after: .shutdown, inFlight: 1, fenced: false, now: now) == .startGraceTimer)
        #expect(stopping.next(after: .slotsFreed, inFlight: -1, fenced: false, now: now) == .exit)
    }

    @Test func aFullRateWindowWakesTheLoopWhenItFreesAStartUnlessThePollComesFirst() {
        let poll = Duration.seconds(1)
        #expect(QueueClaimer.rateWakeDelay(nil, pollInterval: poll) == nil)
        #expect(QueueClaimer.rateWakeDelay(.nan, pollInterval: poll) == nil)
        #expect(QueueClaimer.rateWakeDelay(.infinity, pollInterval: poll) == nil)
        #expect(QueueClaimer.rateWakeDelay(0.25, pollInterval: poll) == .milliseconds(251))
        // A window freeing now, or a clock a little behind, still waits a millisecond.
        #expect(QueueClaimer.rateWakeDelay(0, pollInterval: poll) == .milliseconds(1))
        #expect(QueueClaimer.rateWakeDelay(-3, pollInterval: poll) == .milliseconds(1))
        #expect(QueueClaimer.rateWakeDelay(5, pollInterval: poll) == nil)
        #expect(QueueClaimer.rateWakeDelay(1e300, pollInterval: poll) == nil)
    }

    @Test func aGraceOverWithoutShutdownIsIgnored() {
        var loop = ClaimLoop(capacity: 4)
        #expect(loop.next(after: .graceOver, inFlight: 2, fenced: false, now: now) == .idle)
    }

    @Test func aJobsEndWakesTheLoopOncePerBatch() {
        // Capacity 10: the slot that brings the free slots to 5, and the last one.
        let wakes = (0..<10).reversed().filter { ClaimLoop.wakesLoop(inFlightAfterRelease: $0, capacity: 10) }
        #expect(wakes == [5, 0])
        #expect(ClaimLoop.wakesLoop(inFlightAfterRelease: 0, capacity: 1))
    }

    @Test func aClaimAsksForEveryFreeSlot() {
        // The limit is bound, not written into the claim's text (porter.claim_queued), so any
        // size is one prepared statement: 99 free slots ask for 99 jobs, not the 90 that a
        // rounding to a few sizes asked for.
        for free in [1, 16, 17, 99, 100] {
            var loop = ClaimLoop(capacity: 100)
            #expect(loop.next(after: .wake, inFlight: 100 - free, fenced: false, now: .now) == .claim(limit: free))
        }
    }
}
