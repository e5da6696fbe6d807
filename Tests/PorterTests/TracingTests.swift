import Foundation
import Porter
import PorterPostgres
import PorterTesting
import PropertyBased
import Testing
import Tracing

/// Issue 23: a job carries the W3C trace context of its enqueue, and each attempt runs in a
/// consumer span linked to it (or its child), with the handler inside.
@Suite struct TracingTests {
    static let sampleTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    /// A client on `database` whose spans go to `tracer`.
    static func client(_ database: TestDatabase, tracer: (any Tracer)?, registry: JobRegistry = JobRegistry()) -> PorterClient {
        let base = database.makeClient(registry: registry)
        return PorterClient(pool: base.pool, registry: registry, queues: base.queues, logger: base.logger, tracer: tracer)
    }

    static func storedContext(_ porter: PorterClient, _ id: Int64) async throws -> (String?, String?) {
        try #require(try await porter.pool.query("SELECT traceparent, tracestate FROM porter.jobs WHERE id = \(id)").first)
            .decode((String?, String?).self)
    }

    /// The worker's span for `id`'s attempt `attempt`, once it has ended.
    static func attemptSpan(_ tracer: RecordingTracer, job id: Int64, attempt: Int = 1) async throws -> RecordingTracer.Finished {
        try await waitUntil(timeout: .seconds(30), "the span of job \(id)'s attempt \(attempt)") {
            tracer.finished.contains { $0.kind == .consumer && $0.attributes["messaging.message.id"] == "\(id)" && $0.attributes["porter.job.attempt"] == "\(attempt)" }
        }
        return try #require(tracer.finished.first {
            $0.kind == .consumer && $0.attributes["messaging.message.id"] == "\(id)" && $0.attributes["porter.job.attempt"] == "\(attempt)"
        })
    }

    static func noop() -> JobRegistry {
        var registry = JobRegistry()
        registry.register(method: "app.noop") { _, _ in nil }
        return registry
    }

    @Test func theConfigFilesTraceParentingKeyTakesLinkOrChildAndRefusesAnythingElse() throws {
        #expect(try WorkerConfiguration.parse(Data("{}".utf8)).traceParenting == .link)
        #expect(try WorkerConfiguration.parse(Data(#"{"trace_parenting": "child"}"#.utf8)).traceParenting == .child)
        #expect(try WorkerConfiguration.parse(Data(#"{"trace_parenting": "link"}"#.utf8)).traceParenting == .link)
        for bad in [#""parent""#, "true", "1", #""Child""#] {
            let error = #expect(throws: ConfigurationError.self) { try WorkerConfiguration.parse(Data(#"{"trace_parenting": \#(bad)}"#.utf8)) }
            #expect("\(error.map { "\($0)" } ?? "")".contains(#""link" or "child""#))
        }
        let typo = #expect(throws: ConfigurationError.self) { try WorkerConfiguration.parse(Data(#"{"trace_parenthood": "child"}"#.utf8)) }
        #expect("\(typo.map { "\($0)" } ?? "")".contains("did you mean trace_parenting"))
    }

    @Test func aJobEnqueuedInsideATracedSpanRunsInAConsumerSpanLinkedToIt() async throws {
        let database = try await TestDatabase.create()
        let tracer = RecordingTracer()
        let porter = Self.client(database, tracer: tracer, registry: Self.noop())
        let request = tracer.startSpan("POST /orders", context: .topLevel, ofKind: .server)
        let id = try await ServiceContext.withValue(request.context) {
            try #require(try await porter.enqueue(method: "app.noop", options: EnqueueOptions(queue: "short")).id)
        }
        request.end()
        let send = try #require(tracer.finished.first { $0.kind == .producer })
        #expect(send.name == "send short")
        #expect(send.parent == request.identity, "the producer span is the request's child")
        #expect(send.identity.traceID == request.identity.traceID)
        #expect(send.attributes["messaging.system"] == "porter")
        #expect(send.attributes["messaging.operation.type"] == "send")
        #expect(send.attributes["messaging.destination.name"] == "short")
        #expect(send.attributes["messaging.message.id"] == "\(id)")
        #expect(send.attributes["porter.job.method"] == "app.noop")
        let (traceparent, tracestate) = try await Self.storedContext(porter, id)
        #expect(traceparent == send.identity.traceparent)
        #expect(tracestate == nil)

        try await withWorker(porter, configuration: fastConfiguration()) { _ in
            try await waitForJob(porter, id, .finished)
            let process = try await Self.attemptSpan(tracer, job: id)
            #expect(process.name == "process short")
            #expect(process.links == [send.identity], "linked to the enqueue's span")
            #expect(process.parent == nil, "a trace of its own by default")
            #expect(process.attributes["messaging.system"] == "porter")
            #expect(process.attributes["messaging.operation.type"] == "process")
            #expect(process.attributes["messaging.destination.name"] == "short")
            #expect(process.attributes["porter.job.method"] == "app.noop")
            #expect(process.attributes["porter.job.outcome"] == "finished")
            let wait = try #require(process.attributes["porter.job.wait_seconds"].flatMap(Double.init))
            #expect(wait >= 0)
            #expect(process.status == nil)
        }
        await porter.close()
    }

    /// A queue with limits is claimed by porter.claim_limited; its jobs' spans are linked too,
    /// the context read by the same claim statement.
    @Test func aJobOfALimitedQueueRunsInAConsumerSpanLinkedToItsEnqueue() async throws {
        let database = try await TestDatabase.create()
        let tracer = RecordingTracer()
        let porter = Self.client(database, tracer: tracer, registry: Self.noop())
        try await porter.setLimit(QueueLimit(queue: "short", maxRunning: 1))
        let request = tracer.startSpan("POST /orders", context: .topLevel, ofKind: .server)
        let ids = try await ServiceContext.withValue(request.context) {
            try await porter.enqueueMany((0..<3).map { _ in EnqueueRequest(method: "app.noop", options: EnqueueOptions(queue: "short")) })
                .compactMap(\.id)
        }
        request.end()
        let send = try #require(tracer.finished.first { $0.kind == .producer })
        try await withWorker(porter, configuration: fastConfiguration()) { _ in
            for id in ids {
                try await waitForJob(porter, id, .finished)
                #expect(try await Self.attemptSpan(tracer, job: id).links == [send.identity])
            }
        }
    }

    @Test func withChildParentingTheAttemptSpanIsTheEnqueueSpansChild() async throws {
        let database = try await TestDatabase.create()
        let tracer = RecordingTracer()
        let porter = Self.client(database, tracer: tracer, registry: Self.noop())
        let id = try #require(try await porter.enqueue(method: "app.noop").id)
        let send = try #require(tracer.finished.first { $0.kind == .producer })
        try await withWorker(porter, configuration: fastConfiguration { $0.traceParenting = .child }) { _ in
            let process = try await Self.attemptSpan(tracer, job: id)
            #expect(process.parent == send.identity)
            #expect(process.identity.traceID == send.identity.traceID)
            #expect(process.links.isEmpty)
        }
        await porter.close()
    }

    @Test func aJobEnqueuedFromSQLWithATraceparentJoinsThatTraceSQLJobsToo() async throws {
        let database = try await TestDatabase.create()
        let tracer = RecordingTracer()
        let porter = Self.client(database, tracer: tracer)
        try await createSQLJobs(porter)
        let id = try await porter.pool.query("""
            SELECT porter.enqueue('sql:app.record', traceparent => \(Self.sampleTraceparent), tracestate => 'congo=t61rcWkgMzE')
            """).single(Int64.self)
        let (traceparent, tracestate) = try await Self.storedContext(porter, id)
        #expect(traceparent == Self.sampleTraceparent)
        #expect(tracestate == "congo=t61rcWkgMzE")
        try await withWorker(porter, configuration: fastConfiguration { $0.traceParenting = .child }) { _ in
            let process = try await Self.attemptSpan(tracer, job: id)
            #expect(process.identity.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
            #expect(process.parent?.spanID == "00f067aa0ba902b7")
            #expect(process.parent?.tracestate == "congo=t61rcWkgMzE")
            #expect(process.name == "process default")
            #expect(process.attributes["porter.job.method"] == "sql:app.record")
            #expect(process.attributes["porter.job.outcome"] == "finished")
        }
        await porter.close()
    }

    @Test func aTriggerEnqueueInsideATracedTransactionTakesItsPorterTraceparentSetting() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let ids = try await porter.pool.withTransaction { transaction in
            try transaction.query("SELECT pg_catalog.set_config('porter.traceparent', \(Self.sampleTraceparent), true)")
            let one = try transaction.query("SELECT porter.enqueue('app.noop')").single(Int64.self)
            let many = try transaction.query("SELECT id FROM porter.enqueue_many('[{\"method\": \"app.noop\"}]')").single(Int64.self)
            let own = try transaction.query(
                "SELECT porter.enqueue('app.noop', traceparent => '00-11111111111111111111111111111111-2222222222222222-00')"
            ).single(Int64.self)
            return [one, many, own]
        }
        #expect(try await Self.storedContext(porter, ids[0]).0 == Self.sampleTraceparent)
        #expect(try await Self.storedContext(porter, ids[1]).0 == Self.sampleTraceparent)
        #expect(try await Self.storedContext(porter, ids[2]).0 == "00-11111111111111111111111111111111-2222222222222222-00")
        // A setting that is no traceparent is ignored, as an unset one.
        let plain = try await porter.pool.withTransaction { transaction in
            try transaction.query("SELECT pg_catalog.set_config('porter.traceparent', 'not one', true)")
            return try transaction.query("SELECT porter.enqueue('app.noop')").single(Int64.self)
        }
        #expect(try await Self.storedContext(porter, plain).0 == nil)
        await porter.close()
    }

    @Test func enqueueManyItemsCarryTheirTraceparentKeyAndASwiftBatchItsSendSpan() async throws {
        let database = try await TestDatabase.create()
        let tracer = RecordingTracer()
        let porter = Self.client(database, tracer: tracer)
        let rows = try await porter.pool.query("""
            SELECT id FROM porter.enqueue_many(\(PQJSON(text: """
                [{"method": "a", "traceparent": "\(Self.sampleTraceparent)", "tracestate": "k=v"}, {"method": "b"}]
                """))::jsonb) ORDER BY ord
            """).map { try $0.decode(Int64.self) }
        #expect(try await Self.storedContext(porter, rows[0]) == (Self.sampleTraceparent, "k=v"))
        #expect(try await Self.storedContext(porter, rows[1]) == (nil, nil))
        // The slow path (an item with depends_on) passes them through porter.enqueue.
        let chained = try await porter.pool.query("""
            SELECT id FROM porter.enqueue_many(\(PQJSON(text: """
                [{"method": "c", "depends_on": [\(rows[0])], "traceparent": "\(Self.sampleTraceparent)"}]
                """))::jsonb)
            """).single(Int64.self)
        #expect(try await Self.storedContext(porter, chained).0 == Self.sampleTraceparent)

        let results = try await porter.enqueueMany([
            EnqueueRequest(method: "d"), EnqueueRequest(method: "e"),
            EnqueueRequest(method: "f", options: EnqueueOptions(traceparent: Self.sampleTraceparent)),
        ])
        let send = try #require(tracer.finished.first { $0.kind == .producer })
        #expect(send.attributes["messaging.batch.message_count"] == "3")
        #expect(try await Self.storedContext(porter, try #require(results[0].id)).0 == send.identity.traceparent)
        #expect(try await Self.storedContext(porter, try #require(results[1].id)).0 == send.identity.traceparent)
        #expect(try await Self.storedContext(porter, try #require(results[2].id)).0 == Self.sampleTraceparent, "an explicit one wins")
        await porter.close()
    }

    /// Typed jobs go through porter.enqueue_batch: one `send` span for the batch, its context
    /// on every job, and an explicit context in the shared options on every job instead.
    @Test func aTypedBatchHasOneSendSpanWhoseContextEveryJobCarries() async throws {
        let database = try await TestDatabase.create()
        let tracer = RecordingTracer()
        let porter = Self.client(database, tracer: tracer)
        let ids = try await porter.enqueueMany(
            (0..<3).map { GenerateReport(outletGroup: "g\($0)") }, options: EnqueueOptions(queue: "short")
        ).compactMap(\.id)
        #expect(ids.count == 3)
        let send = try #require(tracer.finished.first { $0.kind == .producer })
        #expect(send.name == "send short")
        #expect(send.attributes["messaging.batch.message_count"] == "3")
        #expect(send.attributes["messaging.destination.name"] == "short")
        for id in ids {
            #expect(try await Self.storedContext(porter, id).0 == send.identity.traceparent)
        }
        let explicit = try await porter.enqueueMany(
            [GenerateReport(outletGroup: "x"), GenerateReport(outletGroup: "y")],
            options: EnqueueOptions(traceparent: Self.sampleTraceparent, tracestate: "k=v")
        ).compactMap(\.id)
        for id in explicit {
            #expect(try await Self.storedContext(porter, id) == (Self.sampleTraceparent, "k=v"))
        }
        // A malformed explicit context is refused before anything is sent.
        let error = try await #require(throws: PorterError.self) {
            try await porter.enqueueMany([GenerateReport()], options: EnqueueOptions(traceparent: "nonsense"))
        }
        #expect(error.code == .invalidArgument(parameter: "traceparent"))
        #expect(try await jobCount(database) == 5)
        await porter.close()
    }

    @Test func aFailingAttemptsSpanHasStatusErrorAndEachRetryLinksToTheSameEnqueue() async throws {
        let database = try await TestDatabase.create()
        let tracer = RecordingTracer()
        var registry = JobRegistry()
        registry.register(method: "app.fails") { _, _ in throw PorterError(code: .database, message: "stock level unavailable") }
        let porter = Self.client(database, tracer: tracer, registry: registry)
        let id = try #require(try await porter.enqueue(method: "app.fails", options: EnqueueOptions(maxAttempts: 2)).id)
        let send = try #require(tracer.finished.first { $0.kind == .producer })
        try await withWorker(porter, configuration: fastConfiguration { $0.retryPolicy.base = .zero }) { _ in
            try await waitForJob(porter, id, .failed)
            let first = try await Self.attemptSpan(tracer, job: id, attempt: 1)
            let second = try await Self.attemptSpan(tracer, job: id, attempt: 2)
            #expect(first.attributes["porter.job.outcome"] == "retry")
            #expect(second.attributes["porter.job.outcome"] == "failed")
            for span in [first, second] {
                #expect(span.status?.code == .error)
                #expect(span.status?.message?.contains("stock level unavailable") == true)
                #expect(span.errors.count == 1)
                #expect(span.links == [send.identity])
            }
        }
        #expect(try await Self.storedContext(porter, id).0 == send.identity.traceparent, "a retry keeps the enqueue's context")
        await porter.close()
    }

    @Test func aTimedOutAttemptsSpanHasStatusError() async throws {
        let database = try await TestDatabase.create()
        let tracer = RecordingTracer()
        var registry = JobRegistry()
        registry.register(method: "app.sleeps") { _, _ in
            try await Task.sleep(for: .seconds(60))
            return nil
        }
        let porter = Self.client(database, tracer: tracer, registry: registry)
        let id = try #require(try await porter.enqueue(method: "app.sleeps", options: EnqueueOptions(timeout: 1)).id)
        try await withWorker(porter, configuration: fastConfiguration()) { _ in
            let span = try await Self.attemptSpan(tracer, job: id)
            #expect(span.attributes["porter.job.outcome"] == "timeout")
            #expect(span.status?.code == .error)
            #expect(span.status?.message?.contains("timed out") == true)
        }
        await porter.close()
    }

    @Test func aHandlersOwnEnqueueIsAChildOfItsAttemptSpan() async throws {
        let database = try await TestDatabase.create()
        let tracer = RecordingTracer()
        var registry = JobRegistry()
        registry.register(method: "app.parent") { _, context in
            try await context.porter.enqueue(method: "app.child")
            return nil
        }
        registry.register(method: "app.child") { _, _ in nil }
        let porter = Self.client(database, tracer: tracer, registry: registry)
        let id = try #require(try await porter.enqueue(method: "app.parent").id)
        try await withWorker(porter, configuration: fastConfiguration()) { _ in
            let parent = try await Self.attemptSpan(tracer, job: id)
            let send = try #require(tracer.finished.first { $0.kind == .producer && $0.attributes["porter.job.method"] == "app.child" })
            #expect(send.parent == parent.identity, "the follow-up's send span is the attempt's child")
            let childID = try #require(send.attributes["messaging.message.id"].flatMap(Int64.init))
            let child = try await Self.attemptSpan(tracer, job: childID)
            #expect(child.links == [send.identity])
            #expect(try await Self.storedContext(porter, childID).0 == send.identity.traceparent)
        }
        await porter.close()
    }

    @Test func aDocumentMethodsEnqueueIsTracedFromSwiftAndTakesATraceparentFromSQL() async throws {
        let database = try await TestDatabase.create()
        let tracer = RecordingTracer()
        let porter = Self.client(database, tracer: tracer)
        let result = try await porter.enqueueDoc(doctype: "Outlet", name: "OUT-0001", method: "sync_stock")
        let id = try #require(result.id)
        let send = try #require(tracer.finished.first { $0.kind == .producer })
        #expect(send.attributes["messaging.message.id"] == "\(id)")
        #expect(try await Self.storedContext(porter, id).0 == send.identity.traceparent)
        let fromSQL = try await porter.pool.query(
            "SELECT porter.enqueue_doc('Outlet', 'OUT-0002', 'sync_stock', traceparent => \(Self.sampleTraceparent))"
        ).single(Int64.self)
        #expect(try await Self.storedContext(porter, fromSQL).0 == Self.sampleTraceparent)
        await #expect(throws: PorterError.self) {
            try await porter.enqueueDoc(doctype: "Outlet", name: "OUT-0003", method: "sync_stock", options: EnqueueOptions(traceparent: "x"))
        }
        await porter.close()
    }

    @Test func eachSchedulerFireMakesASendSpanThatTheFiredJobCarries() async throws {
        let database = try await TestDatabase.create()
        let tracer = RecordingTracer()
        let porter = Self.client(database, tracer: tracer)
        var configuration = ScheduleConfiguration()
        try configuration.add("all", method: "t.report")
        let scheduler = Scheduler(client: porter, configuration: configuration)
        let start = Date(timeIntervalSince1970: 1_767_258_000)
        try await scheduler.register(now: start)
        let fired = try #require(try await scheduler.tick(now: start.addingTimeInterval(60)).fired.first)
        let send = try #require(tracer.finished.first { $0.kind == .producer })
        #expect(send.attributes["messaging.message.id"] == "\(fired.job)")
        #expect(send.attributes["porter.job.method"] == "t.report")
        #expect(try await Self.storedContext(porter, fired.job).0 == send.identity.traceparent)
        await porter.close()
    }

    @Test func withTracingOffNoTraceparentIsStoredAndNoSpanRecorded() async throws {
        let database = try await TestDatabase.create()
        let watcher = RecordingTracer()
        // The process's tracer is the no-op one: no test bootstraps one.
        #expect(InstrumentationSystem.tracer is NoOpTracer)
        let porter = Self.client(database, tracer: nil, registry: Self.noop())
        let explicit = Self.client(database, tracer: NoOpTracer(), registry: Self.noop())
        let request = watcher.startSpan("request", context: .topLevel, ofKind: .server)
        let ids = try await ServiceContext.withValue(request.context) {
            [
                try #require(try await porter.enqueue(method: "app.noop").id),
                try #require(try await explicit.enqueue(method: "app.noop").id),
                try #require(try await porter.enqueueMany([EnqueueRequest(method: "app.noop")]).first?.id),
            ]
        }
        try await withWorker(porter, configuration: fastConfiguration()) { _ in
            for id in ids { try await waitForJob(porter, id, .finished) }
        }
        for id in ids { #expect(try await Self.storedContext(porter, id) == (nil, nil)) }
        #expect(watcher.finished.isEmpty)
        await porter.close()
    }

    @Test func aMalformedTraceparentIsRefusedFromSQLSwiftAndTheCLIAndNothingIsStored() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        let bad = [
            "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n",
            String(repeating: "x", count: 10_000),
        ]
        for value in bad {
            do {
                _ = try await porter.pool.query("SELECT porter.enqueue('app.noop', traceparent => \(value))")
                Issue.record("porter.enqueue took traceparent \(value.prefix(60))")
            } catch let error as PQError {
                #expect(error.sqlState == .invalidParameterValue)
                #expect(error.column == "traceparent")
                #expect(error.message.contains("traceparent") && error.message.contains("version-traceid-parentid-flags"), "\(error.message)")
                #expect(error.message.utf8.count < 400, "the value is cut")
            }
            do {
                _ = try await porter.enqueue(method: "app.noop", options: EnqueueOptions(traceparent: value))
                Issue.record("enqueue took traceparent \(value.prefix(60))")
            } catch let error as PorterError {
                #expect(error.code == .invalidArgument(parameter: "traceparent"))
            }
        }
        await #expect(throws: PQError.self) {
            try await porter.pool.query("SELECT porter.enqueue('app.noop', tracestate => 'k=v')")
        }
        await #expect(throws: PQError.self) {
            try await porter.pool.query("SELECT porter.enqueue('app.noop', traceparent => \(Self.sampleTraceparent), tracestate => \(String(repeating: "k", count: 513)))")
        }
        await #expect(throws: PQError.self) {
            try await porter.pool.query("SELECT * FROM porter.enqueue_many('[{\"method\": \"a\"}, {\"method\": \"b\", \"traceparent\": \"00-zz\"}]')")
        }
        await #expect(throws: PQError.self) {
            try await porter.pool.query("INSERT INTO porter.jobs (method, traceparent) VALUES ('a', 'bad')")
        }
        let cli = try await runPorter(["enqueue", "app.noop", "--traceparent", "00-xyz", "--database-url", database.connectionString])
        #expect(cli.status != 0 && !cli.crashed)
        #expect(cli.output.contains("--traceparent") && cli.output.contains("version-traceid-parentid-flags"), "\(cli.output)")
        #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs").single(Int.self) == 0)

        let good = try await runPorter([
            "enqueue", "app.noop", "--traceparent", Self.sampleTraceparent, "--tracestate", "k=v", "--database-url", database.connectionString,
        ])
        #expect(good.status == 0, "\(good.output)")
        let id = try #require(Int64(good.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try await Self.storedContext(porter, id) == (Self.sampleTraceparent, "k=v"))
        #expect(try await porter.job(id: id)?.traceparent == Self.sampleTraceparent)
        let shown = try await runPorter(["job", "\(id)", "--json", "--database-url", database.connectionString])
        #expect(shown.output.contains(#""traceparent":"\#(Self.sampleTraceparent)""#), "\(shown.output)")
        await porter.close()
    }

    /// Traceparents: valid ones, valid ones with one character changed (to a hostile one, an
    /// uppercase letter, a dash), cut or lengthened, and hostile text of any kind.
    static let traceparents = Gen<String>.oneOf(
        zip(Gen.uint64(), Gen.uint64(), Gen.int(in: 0...255)).map { high, low, flags in
            "00-\(String(format: "%016llx%016llx", high, low))-\(String(format: "%016llx", low ^ high))-\(String(format: "%02x", flags))"
        },
        zip(Gen.int(in: 0...54), Gen.int(in: 0...(HostileText.palette.count + 3))).map { position, pick in
            var characters = Array(sampleTraceparent)
            let replacement = pick < HostileText.palette.count ? HostileText.palette[pick] : ["F", "-", "0", "ff"][pick - HostileText.palette.count]
            let prefix = String(characters[..<position])
            let suffix = String(characters[(position + 1)...])
            characters = Array(prefix + replacement + suffix)
            return String(characters)
        },
        Gen.int(in: 0...60).map { String(sampleTraceparent.prefix($0)) },
        HostileText.name
    )

    @Test func everyTraceparentIsStoredExactlyOrRefusedWith22023AndSwiftAgreesWithSQL() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        await propertyCheck(count: 300, input: Self.traceparents) { value in
            let swiftAccepts = TraceHeaders.isValidTraceparent(value)
            do {
                let id = try await porter.pool.query("SELECT porter.enqueue('app.noop', traceparent => \(value))").single(Int64.self)
                #expect(try await Self.storedContext(porter, id).0 == value, "stored as given")
                #expect(swiftAccepts, "Swift refuses what SQL took: \(value)")
            } catch let error as PQError {
                // Text PostgreSQL cannot hold (NUL) is refused before the function runs.
                #expect(["22023", "22021", "22P05"].contains(error.sqlState?.rawValue ?? ""), "\(error)")
                #expect(!swiftAccepts, "SQL refuses what Swift took: \(value)")
            }
        }
        await porter.close()
    }
}
