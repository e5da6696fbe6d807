@testable import Porter
import Testing

/// Which attempts the held-jobs check hands back: only those the database shows held and the
/// worker provably never received, never one whose claim's answer may still be coming or
/// whose end is being written, and that also on a worker whose claims never stop.
@Suite struct OwnedAttemptsTests {
    let a = JobAttempt.Key(id: 1, attempt: 1)
    let b = JobAttempt.Key(id: 2, attempt: 1)

    @Test func anAttemptHeldInTheDatabaseThatNoClaimReturnedIsLostAtTheSecondCheck() {
        let owned = OwnedAttempts()
        owned.claimAnswered(owned.claimSent(), [a])
        owned.claimFailed(owned.claimSent())
        var lost = LostClaims()
        #expect(lost.check(held: [a, b], before: owned.now, after: owned.now).isEmpty)
        #expect(lost.check(held: [a, b], before: owned.now, after: owned.now) == [b])
        // Handed back: not found again.
        #expect(lost.check(held: [a], before: owned.now, after: owned.now).isEmpty)
    }

    @Test func anAttemptWhoseClaimIsStillWaitingIsNotLost() {
        let owned = OwnedAttempts()
        let claim = owned.claimSent()
        var lost = LostClaims()
        // The claim committed; its answer is on its way through two checks.
        #expect(lost.check(held: [a], before: owned.now, after: owned.now).isEmpty)
        #expect(lost.check(held: [a], before: owned.now, after: owned.now).isEmpty)
        owned.claimAnswered(claim, [a])
        #expect(lost.check(held: [a], before: owned.now, after: owned.now).isEmpty)
        #expect(lost.check(held: [a], before: owned.now, after: owned.now).isEmpty)
    }

    @Test func anAttemptWhoseClaimFailedAfterTheFirstCheckIsLostAtTheNext() {
        let owned = OwnedAttempts()
        let claim = owned.claimSent()
        var lost = LostClaims()
        #expect(lost.check(held: [a], before: owned.now, after: owned.now).isEmpty)
        owned.claimFailed(claim)
        #expect(lost.check(held: [a], before: owned.now, after: owned.now) == [a])
    }

    @Test func aWorkerThatIsAlwaysClaimingStillFindsWhatItLost() {
        let owned = OwnedAttempts()
        owned.claimFailed(owned.claimSent())
        var lost = LostClaims()
        var found: Set<JobAttempt.Key> = []
        for _ in 0..<3 {
            // A new claim is waiting at every check; each answers before the next.
            let claim = owned.claimSent()
            found.formUnion(lost.check(held: [a], before: owned.now, after: owned.now))
            owned.claimAnswered(claim, [])
        }
        #expect(found == [a])
    }

    @Test func anAttemptEndedBetweenTheReadAndTheSnapshotIsNotLost() {
        let owned = OwnedAttempts()
        let claim = owned.claimSent()
        var lost = LostClaims()
        let before = owned.now
        // Answered, run and ended while the held jobs were being read.
        owned.claimAnswered(claim, [a])
        owned.released(a)
        #expect(lost.check(held: [a], before: before, after: owned.now).isEmpty)
        // Its end is written: the next read no longer shows it.
        #expect(lost.check(held: [], before: owned.now, after: owned.now).isEmpty)
    }

    @Test func anAttemptReleasedDuringTheCheckIsAccountedFor() {
        let owned = OwnedAttempts()
        owned.claimAnswered(owned.claimSent(), [a])
        var lost = LostClaims()
        for _ in 0..<2 {
            let before = owned.now
            #expect(lost.check(held: [a], before: before, after: owned.now).isEmpty)
        }
        let before = owned.now
        owned.released(a)
        #expect(lost.check(held: [a], before: before, after: owned.now).isEmpty)
    }

    @Test func aNewAttemptOfTheSameJobIsNotTheOldOne() {
        let owned = OwnedAttempts()
        owned.claimAnswered(owned.claimSent(), [a])
        let retry = JobAttempt.Key(id: a.id, attempt: 2)
        var lost = LostClaims()
        _ = lost.check(held: [retry], before: owned.now, after: owned.now)
        #expect(lost.check(held: [retry], before: owned.now, after: owned.now) == [retry])
    }
}
