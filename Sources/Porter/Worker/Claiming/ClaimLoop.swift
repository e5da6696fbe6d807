/// What one queue's claim loop decides, and nothing it does: when to claim and how many jobs,
/// how long to back off while the database cannot be reached, and when shutdown is over.
///
/// `QueueClaimer` feeds it what happens (`next(after:inFlight:fenced:now:)`, `record(_:now:)`)
/// and carries out the action it gets back. It does no I/O and reads no clock, so
/// ClaimLoopTests drive it through every case without a database.
struct ClaimLoop: Sendable {
    /// What the loop hears.
    enum Event: Sendable, Equatable {
        /// Jobs may be waiting: an enqueue notification, the poll timer, a reconnect, a fence
        /// lifted, a handed-back method another worker stopped covering.
        case wake
        /// Running jobs ended and freed enough slots for a claim (`wakesLoop(inFlightAfterRelease:)`).
        case slotsFreed
        /// Graceful shutdown: take no more jobs, let running ones finish within the grace period.
        case shutdown
        /// The grace period is over.
        case graceOver
    }

    /// What the loop should do next.
    enum Action: Sendable, Equatable {
        /// Nothing until the next event.
        case idle
        /// Claim up to `limit` jobs, then `record` how it went.
        case claim(limit: Int)
        /// Shutdown began with jobs running: start the grace timer, which sends `graceOver`.
        case startGraceTimer
        /// The grace period is over with jobs still running: stop them (they go back in the queue).
        case stopRunningJobs
        /// Shutdown is complete: nothing runs and nothing will be claimed.
        case exit
    }

    /// How a claim went.
    enum ClaimResult: Sendable, Equatable {
        /// It returned `count` jobs out of the `limit` asked for.
        case claimed(count: Int, limit: Int)
        /// The database could not be reached (`DatabaseOutage` logs it).
        case unreachable
        /// It failed for another reason (a statement error, a lock timeout).
        case failed
    }

    /// What the claimer should log about a claim result, so that a failure repeated at every poll
    /// is logged once.
    enum Note: Sendable, Equatable {
        /// The first failure since claims last succeeded (not an outage): warn once.
        case failing
        /// A claim succeeded after failures: say so once.
        case succeedingAgain
    }

    /// The claimer's slots.
    let capacity: Int
    /// Whether jobs may be waiting. True at start; a claim that fills its limit keeps it true.
    private(set) var mayHaveWaitingJobs = true
    /// Whether shutdown began.
    private(set) var isStopping = false
    /// Consecutive claims that could not reach the database, for the backoff.
    private var unreachableClaims = 0
    /// No claim before this instant while the database cannot be reached.
    private var retryAt: ContinuousClock.Instant?
    /// Whether claims are failing for a reason other than an outage.
    private var failing = false

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The action after `event`, with `inFlight` of the slots in use, whether the worker is
    /// fenced off, and the time now.
    mutating func next(after event: Event, inFlight: Int, fenced: Bool, now: ContinuousClock.Instant) -> Action {
        // A count below zero is a slot freed twice, a bug: it must neither claim more than
        // `capacity` nor keep shutdown waiting for a zero it has already passed.
        let inFlight = max(inFlight, 0)
        switch event {
        case .wake:
            mayHaveWaitingJobs = true
        case .slotsFreed:
            break
        case .shutdown:
            guard !isStopping else { return inFlight == 0 ? .exit : .idle }
            isStopping = true
            return inFlight == 0 ? .exit : .startGraceTimer
        case .graceOver:
            guard isStopping else { return .idle }
            return inFlight == 0 ? .exit : .stopRunningJobs
        }
        if isStopping { return inFlight == 0 ? .exit : .idle }
        let free = capacity - inFlight
        // Claim when jobs may be waiting and enough slots are free to make a batch worth a
        // round trip: half of them, or all, or whatever a wake-up finds.
        guard mayHaveWaitingJobs, free > 0, inFlight == 0 || free * 2 >= capacity || event == .wake else { return .idle }
        if let retryAt, now < retryAt { return .idle }
        // Cut off from the database: a rescuer may give away whatever is claimed now.
        guard !fenced else { return .idle }
        return .claim(limit: free)
    }

    /// Records how the claim the last action asked for went; returns what to log, if anything.
    mutating func record(_ result: ClaimResult, now: ContinuousClock.Instant) -> Note? {
        switch result {
        case .claimed(let count, let limit):
            unreachableClaims = 0
            retryAt = nil
            // A short claim took every job there was; a full one may have left some.
            mayHaveWaitingJobs = count >= limit
            guard failing else { return nil }
            failing = false
            return .succeedingAgain
        case .unreachable:
            unreachableClaims += 1
            retryAt = now + DatabaseOutage.backoff(afterFailures: unreachableClaims)
            return nil
        case .failed:
            guard !failing else { return nil }
            failing = true
            return .failing
        }
    }

    /// Whether a job's end, leaving `inFlight` slots in use, should wake the loop: when it
    /// frees the last slot, or brings the free slots to half. One wake-up per batch rather than
    /// one per job.
    static func wakesLoop(inFlightAfterRelease inFlight: Int, capacity: Int) -> Bool {
        let free = capacity - inFlight
        return inFlight <= 0 || (free * 2 >= capacity && (free - 1) * 2 < capacity)
    }
}
