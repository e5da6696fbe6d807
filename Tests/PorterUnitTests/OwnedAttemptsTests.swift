@testable import Porter
import Testing

/// Which attempts the held-jobs check may hand back: only those the database shows held
/// and the worker provably never received, never one whose claim answer may still be coming
/// or whose end is being written.
@Suite struct OwnedAttemptsTests {
    let a = JobAttempt.Key(id: 1, attempt: 1)
    let b = JobAttempt.Key(id: 2, attempt: 1)

    @Test func anAttemptHeldInTheDatabaseThatNoClaimReturnedIsUnaccounted() {
        let owned = OwnedAttempts()
        owned.claimSent()
        owned.claimAnswered([a])
        owned.claimSent()
        owned.claimFailed()
        let snapshot = owned.now
        #expect(OwnedAttempts.unaccounted(held: [a, b], before: snapshot, after: snapshot) == [b])
    }

    @Test func nothingIsUnaccountedWhileAClaimAwaitsItsAnswer() {
        let owned = OwnedAttempts()
        owned.claimSent()
        let waiting = owned.now
        #expect(OwnedAttempts.unaccounted(held: [a], before: waiting, after: waiting).isEmpty)
        owned.claimAnswered([a])
        // The claim was waiting when the check began and answered before it ended.
        #expect(OwnedAttempts.unaccounted(held: [a, b], before: waiting, after: owned.now).isEmpty)
    }

    @Test func nothingIsUnaccountedWhenAClaimWasSentAndAnsweredDuringTheCheck() {
        let owned = OwnedAttempts()
        let before = owned.now
        owned.claimSent()
        owned.claimAnswered([a])
        owned.released(a)
        #expect(OwnedAttempts.unaccounted(held: [a], before: before, after: owned.now).isEmpty)
    }

    @Test func anAttemptReleasedDuringTheCheckIsAccountedFor() {
        let owned = OwnedAttempts()
        owned.claimSent()
        owned.claimAnswered([a])
        let before = owned.now
        // Its end was written after the database listed it as held.
        owned.released(a)
        #expect(OwnedAttempts.unaccounted(held: [a], before: before, after: owned.now).isEmpty)
    }

    @Test func aNewAttemptOfTheSameJobIsNotTheOldOne() {
        let owned = OwnedAttempts()
        owned.claimSent()
        owned.claimAnswered([a])
        let retry = JobAttempt.Key(id: a.id, attempt: 2)
        let snapshot = owned.now
        #expect(OwnedAttempts.unaccounted(held: [retry], before: snapshot, after: snapshot) == [retry])
    }
}
