import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

/// A job whose arguments hold the values JSON has no type of its own for, and the usual ones.
struct Remind: Job, Equatable {
    static let method = "test.remind"

    enum Channel: String, Codable, Sendable { case email, sms }
    enum Recurrence: Codable, Sendable, Equatable {
        case never
        case every(days: Int)
        case until(Date)
    }
    struct Recipient: Codable, Sendable, Equatable {
        var id: UUID
        var homepage: URL
        var lastSeen: Date?
    }

    var at: Date
    var attachment: Data
    var id: UUID
    var link: URL
    var amount: Decimal
    var ratio: Double
    var note: String?
    var snoozedUntil: Date?
    var channel: Channel
    var recurrence: Recurrence
    var counts: [String: Int]
    var recipient: Recipient

    /// 2026-12-01T10:00:00.123Z and a little: the wire keeps milliseconds.
    static let at = Date(timeIntervalSince1970: 1_796_119_200.123_4)

    /// Every field set, optionals included.
    static let full = Remind(
        at: at,
        attachment: Data([0, 1, 2, 0xfe, 0xff]),
        id: UUID(uuidString: "0F5E3D2C-1B0A-4987-8654-3210FEDCBA98")!,
        link: URL(string: "https://example.com/reminders/42?lang=fr#top")!,
        amount: Decimal(string: "12345.6789")!,
        ratio: 0.1,
        note: "bring the \"good\" pen / ✏️",
        snoozedUntil: at.addingTimeInterval(600.5),
        channel: .sms,
        recurrence: .until(at.addingTimeInterval(86_400 * 30)),
        counts: ["sent": 3, "opened": 0, "clicked": -1],
        recipient: Recipient(
            id: UUID(uuidString: "A1B2C3D4-E5F6-4A5B-8C7D-9E8F7A6B5C4D")!,
            homepage: URL(string: "https://example.org/~ana")!,
            lastSeen: Date(timeIntervalSince1970: 1_700_000_000.999)))

    /// The optionals left out, and other cases of the enums.
    static let sparse = Remind(
        at: Date(timeIntervalSince1970: 1_796_119_200),
        attachment: Data(),
        id: UUID(uuidString: "00000000-0000-4000-8000-000000000001")!,
        link: URL(string: "mailto:ana@example.org")!,
        amount: Decimal(string: "-0.01")!,
        ratio: -2.5e-8,
        note: nil,
        snoozedUntil: nil,
        channel: .email,
        recurrence: .every(days: 7),
        counts: [:],
        recipient: Recipient(
            id: UUID(uuidString: "00000000-0000-4000-8000-000000000002")!,
            homepage: URL(string: "https://example.org")!,
            lastSeen: nil))

    /// The job with every date rounded to the millisecond, the precision Porter promises.
    var toTheMillisecond: Remind {
        func round(_ date: Date) -> Date {
            Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
        }
        var copy = self
        copy.at = round(at)
        copy.snoozedUntil = snoozedUntil.map(round)
        if case .until(let date) = recurrence { copy.recurrence = .until(round(date)) }
        copy.recipient.lastSeen = recipient.lastSeen.map(round)
        return copy
    }
}

/// A date and nothing else, for arguments written by other clients.
struct Alarm: Job {
    static let method = "test.alarm"
    var at: Date
}

/// A list of reminders, a document that needs no table: any name loads.
struct ReminderList: Document {
    static let doctype = "ReminderList"
    var name: String

    static func load(name: String, context: JobContext) async throws -> ReminderList? {
        ReminderList(name: name)
    }
}

/// What handlers were given, by job id; inline runs (no id) under 0.
actor SeenValues<Value: Sendable> {
    private(set) var byJob: [Int64: Value] = [:]

    func record(_ value: Value, job: Int64?) {
        byJob[job ?? 0] = value
    }
}

@Suite struct ArgumentsRoundTripTests {
    /// A registry whose handlers record what they were given and return it as their result.
    private func registry(_ seen: SeenValues<Remind>, alarms: SeenValues<Date>? = nil) -> JobRegistry {
        var registry = JobRegistry()
        registry.register(Remind.self) { job, context in
            await seen.record(job, job: context.id)
            return job
        }
        registry.register(document: ReminderList.self, method: "send") { _, kwargs, context in
            let job = try kwargs.decode(Remind.self)
            await seen.record(job, job: context.id)
            return job
        }
        registry.register(Alarm.self) { job, context in
            await alarms?.record(job.at, job: context.id)
        }
        return registry
    }

    @Test func typedArgumentsReachAWorkersHandlerAsTheyWereEnqueued() async throws {
        let database = try await TestDatabase.create()
        let seen = SeenValues<Remind>()
        let porter = database.makeClient(registry: registry(seen))
        // Each enqueue path: in the caller's transaction, on the pool, and as a batch.
        let inTransaction = try #require(try await porter.pool.withTransaction { transaction in
            try await porter.enqueue(Remind.full, on: transaction)
        }.id)
        let onPool = try #require(try await porter.enqueue(Remind.sparse).id)
        let batch = try await porter.enqueueMany([Remind.full, Remind.sparse]).map { try #require($0.id) }
        let sent = [inTransaction: Remind.full, onPool: Remind.sparse, batch[0]: Remind.full, batch[1]: Remind.sparse]

        let worker = RunningWorker(porter, fastConfiguration())
        for (id, job) in sent {
            let record = try await waitForJob(porter, id, .finished)
            #expect(await seen.byJob[id]?.toTheMillisecond == job.toTheMillisecond)
            // The result is written and read back with the same coding as the arguments.
            #expect(try #require(record.result).decode(Remind.self).toTheMillisecond == job.toTheMillisecond)
            #expect(try record.decodeArgs(as: Remind.self).toTheMillisecond == job.toTheMillisecond)
        }
        try await worker.shutdown()

        // On the wire: ISO 8601 in UTC with milliseconds, which SQL casts to timestamptz as it is.
        let row = try #require(try await porter.pool.query("""
            SELECT args->>'at', (args->>'at')::timestamptz = '2026-12-01 10:00:00.123+00', args->>'amount', args->>'attachment'
            FROM porter.jobs WHERE id = \(inTransaction)
            """).first)
        let (at, castsExactly, amount, attachment) = try row.decode((String, Bool, String, String).self)
        #expect(at == "2026-12-01T10:00:00.123Z")
        #expect(castsExactly)
        #expect(amount == "12345.6789")
        #expect(attachment == "AAEC/v8=")
        await porter.close()
    }

    @Test func documentKwargsReachTheDocumentMethodAsTheyWereEnqueued() async throws {
        let database = try await TestDatabase.create()
        let seen = SeenValues<Remind>()
        let porter = database.makeClient(registry: registry(seen))
        // On the caller's connection: the path that calls porter.enqueue_doc.
        let id = try #require(try await porter.pool.withConnection { connection in
            try await porter.enqueueDoc(
                ReminderList.self, name: "weekly", method: "send", args: PQJSON(encoding: Remind.full), on: connection)
        }.id)
        let worker = RunningWorker(porter, fastConfiguration())
        let record = try await waitForJob(porter, id, .finished)
        #expect(await seen.byJob[id]?.toTheMillisecond == Remind.full.toTheMillisecond)
        #expect(try #require(record.result).decode(Remind.self).toTheMillisecond == Remind.full.toTheMillisecond)
        try await worker.shutdown()
        await porter.close()
    }

    @Test func anInlineRunDecodesArgumentsAndReturnsTheResultAsAWorkerDoes() async throws {
        let database = try await TestDatabase.create()
        let seen = SeenValues<Remind>()
        let porter = database.makeClient(registry: registry(seen))
        for job in [Remind.full, Remind.sparse] {
            guard case .ranInline(let result) = try await porter.enqueue(job, options: EnqueueOptions(now: true)) else {
                Issue.record("expected an inline run")
                continue
            }
            #expect(await seen.byJob[0]?.toTheMillisecond == job.toTheMillisecond)
            #expect(try #require(result).decode(Remind.self).toTheMillisecond == job.toTheMillisecond)
        }
        let document = try await porter.enqueueDoc(
            doctype: ReminderList.doctype, name: "weekly", method: "send", args: PQJSON(encoding: Remind.full),
            options: EnqueueOptions(now: true))
        guard case .ranInline(let result) = document else {
            Issue.record("expected an inline run, got \(document)")
            return
        }
        #expect(try #require(result).decode(Remind.self).toTheMillisecond == Remind.full.toTheMillisecond)
        #expect(try await porter.jobs().isEmpty)
        await porter.close()
    }

    @Test func aRealtimeMessagePublishedFromSwiftArrivesAsItWasSent() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let realtime = RealtimeListener(client: porter)
        defer { realtime.stop() }
        try await realtime.start()
        var events = realtime.events(named: "reminded").makeAsyncIterator()
        try await porter.publishRealtime(event: "reminded", message: PQJSON(encoding: Remind.full))
        let event = try #require(await events.next())
        #expect(try event.message.decode(Remind.self).toTheMillisecond == Remind.full.toTheMillisecond)
        await porter.close()
    }

    @Test func datesWrittenWithoutMillisecondsOrBySQLStillDecode() async throws {
        let database = try await TestDatabase.create()
        let alarms = SeenValues<Date>()
        let porter = database.makeClient(registry: registry(SeenValues(), alarms: alarms))
        // As Porter wrote dates before it kept milliseconds, and as other clients write them.
        var expected: [Int64: Double] = [:]
        for (text, seconds) in [
            ("2026-12-01T10:00:00Z", 1_796_119_200.0),
            ("2026-12-01T12:00:00.5+02:00", 1_796_119_200.5),
            ("2026-12-01T10:00:00.123456789Z", 1_796_119_200.123),
        ] {
            let id = try #require(try await porter.enqueue(method: Alarm.method, args: PQJSON(text: #"{"at": "\#(text)"}"#)).id)
            expected[id] = seconds
        }
        // to_jsonb writes a timestamptz as 2026-12-01T10:00:00.123456+00:00.
        let fromSQL = try await porter.pool.query(
            "SELECT porter.enqueue('test.alarm', jsonb_build_object('at', '2026-12-01 10:00:00.123456+00'::timestamptz))"
        ).single(Int64.self)
        expected[fromSQL] = 1_796_119_200.123

        let worker = RunningWorker(porter, fastConfiguration())
        for (id, seconds) in expected {
            try await waitForJob(porter, id, .finished)
            let at = try #require(await alarms.byJob[id])
            #expect((at.timeIntervalSince1970 * 1000).rounded() == seconds * 1000, "job \(id)")
        }
        try await worker.shutdown()
        await porter.close()
    }

    @Test func aDateInAnotherFormFailsTheJobAtOnceNamingTheFormExpected() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient(registry: registry(SeenValues()))
        let id = try #require(try await porter.enqueue(
            method: Alarm.method, args: PQJSON(text: #"{"at": "1 December 2026"}"#),
            options: EnqueueOptions(maxAttempts: 3)).id)
        let worker = RunningWorker(porter, fastConfiguration())
        let job = try await waitForJob(porter, id, .failed)
        #expect(job.attempts == 1)
        #expect(job.error?.contains("2026-12-01T10:00:00.123Z") == true, "\(job.error ?? "")")
        try await worker.shutdown()
        await porter.close()
    }
}
