import ArgumentParser
import Foundation
import Logging
import Porter
import PorterCLI
import PorterPostgres

/// `porter bench`: benchmarks that print figures. A benchmark is not a test: it asserts nothing.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Porter on this machine (durable PostgreSQL settings; a throwaway server unless a URL is configured).",
        subcommands: [
            EnqueueBenchCommand.self, BurndownBenchCommand.self, ContinuousBenchCommand.self, LatencyBenchCommand.self,
            RescueBenchCommand.self,
            StatsBenchCommand.self,
        ])
}

/// `porter bench enqueue`: the cost of a transactional enqueue against a bare INSERT of the same
/// row, and `enqueueMany` throughput.
struct EnqueueBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Single-row enqueue against a bare INSERT of the same row, and enqueueMany rows per second.")

    @Option(help: "Single-row samples of each kind, \(EnqueueBenchCommand.samplesRange.text).")
    var samples: Int = 2000

    @Option(help: "enqueueMany batches, \(EnqueueBenchCommand.batchesRange.text).")
    var batches: Int = 50

    @Option(name: .customLong("batch-size"), help: "Jobs per enqueueMany batch, \(EnqueueBenchCommand.batchSizeRange.text).")
    var batchSize: Int = 1000

    @OptionGroup var connection: ConnectionOptions

    // Below 1 the sample loops are ranges with a negative end, which trap; the upper bounds
    // keep `samples + 100` and `batch * batchSize` far from overflowing.
    static let samplesRange = FlagRange("--samples", 1...1_000_000)
    static let batchesRange = FlagRange("--batches", 1...1_000_000)
    static let batchSizeRange = FlagRange("--batch-size", 1...100_000)

    func validate() throws {
        try Self.samplesRange.check(samples)
        try Self.batchesRange.check(batches)
        try Self.batchSizeRange.check(batchSize)
    }

    struct NoOp: Job {
        static let method = "bench.noop"
        var n: Int
    }

    func run() async throws {
        let session = try DatabaseSession.start(connection)
        defer { session.stop() }
        var logger = Logger(label: "porter.bench")
        logger.logLevel = .warning
        let porter = PorterClient(pool: PQPool(session.configuration, maximumConnections: 2, logger: logger), logger: logger)
        try await porter.migrate()
        let database = try await PQConnection.connect(session.configuration, logger: logger)
        let settings = try await database.query("SELECT current_setting('fsync'), current_setting('synchronous_commit')").first
        print("fsync=\(settings?[0] ?? "?") synchronous_commit=\(settings?[1] ?? "?")")

        // Single rows, each its own transaction (one durable commit each). The two kinds
        // alternate so that both see the same disk.
        var bare: [Double] = []
        var enqueue: [Double] = []
        let clock = ContinuousClock()
        for n in 0..<(samples + 100) {
            let args = PQJSON(text: "{\"n\":\(n)}")
            let bareTime = try await clock.measure {
                try await database.query(
                    "INSERT INTO porter.jobs (method, args, queue) VALUES (\(NoOp.method), \(args)::jsonb, \("default"))")
            }
            let enqueueTime = try await clock.measure {
                _ = try await porter.enqueue(NoOp(n: n), on: database)
            }
            if n >= 100 {  // the first 100 warm up caches and plans
                bare.append(bareTime.milliseconds)
                enqueue.append(enqueueTime.milliseconds)
            }
        }
        print("single row, \(samples) samples each (ms): bare INSERT p50 \(format(percentile(bare, 50))) mean \(format(mean(bare)))"
            + " | porter.enqueue p50 \(format(percentile(enqueue, 50))) mean \(format(mean(enqueue)))")

        // enqueueMany: one statement and one commit per batch. Typed jobs with shared options
        // go through porter.enqueue_batch. Two baselines, each a client that has its payload
        // ready (built before its clock starts), as another language's client would:
        // porter.enqueue_many with a JSON object per job (what the issue measures against),
        // and porter.enqueue_batch with the same arguments array. The three alternate batch
        // by batch, so that all see the same disk and the same table.
        var inserted = 0
        var swiftTime = Duration.zero
        var manyTime = Duration.zero
        var batchTime = Duration.zero
        for batch in 0..<batches {
            let jobs = (0..<batchSize).map { NoOp(n: 3 * batch * batchSize + $0) }
            swiftTime += try await clock.measure {
                inserted += try await porter.enqueueMany(jobs, on: database).count
            }
            let manyPayload = JobQueries.enqueueMany(try EnqueueRequest.batch(
                (0..<batchSize).map { NoOp(n: (3 * batch + 1) * batchSize + $0) }, options: EnqueueOptions()))
            manyTime += try await clock.measure {
                _ = try await database.query(manyPayload)
            }
            let batchPayload = try EnqueueBatch((0..<batchSize).map { NoOp(n: (3 * batch + 2) * batchSize + $0) }, options: EnqueueOptions()).query
            batchTime += try await clock.measure {
                _ = try await database.query(batchPayload)
            }
        }
        let rowsPerSecond = Double(inserted) / swiftTime.seconds
        let manyRowsPerSecond = Double(batches * batchSize) / manyTime.seconds
        let batchRowsPerSecond = Double(batches * batchSize) / batchTime.seconds
        print("enqueueMany: \(inserted) jobs in \(batches) batches of \(batchSize) in \(format(swiftTime.seconds)) s"
            + " (\(Int(rowsPerSecond)) jobs/s)")
        print("  porter.enqueue_many with the same jobs ready: \(format(manyTime.seconds)) s"
            + " (\(Int(manyRowsPerSecond)) jobs/s), enqueueMany at \(format(rowsPerSecond / manyRowsPerSecond))× its speed")
        print("  porter.enqueue_batch with the same arguments ready: \(format(batchTime.seconds)) s"
            + " (\(Int(batchRowsPerSecond)) jobs/s), enqueueMany at \(format(rowsPerSecond / batchRowsPerSecond))× its speed")

        await database.close()
        await porter.close()
        print("bare_insert_p50_ms=\(format(percentile(bare, 50))) enqueue_p50_ms=\(format(percentile(enqueue, 50)))"
            + " bare_insert_mean_ms=\(format(mean(bare))) enqueue_mean_ms=\(format(mean(enqueue)))"
            + " enqueue_many_batch=\(batchSize) enqueue_many_rows_per_s=\(Int(rowsPerSecond))"
            + " sql_enqueue_many_rows_per_s=\(Int(manyRowsPerSecond)) sql_enqueue_batch_rows_per_s=\(Int(batchRowsPerSecond))")
    }
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let index = min(sorted.count - 1, Int((p / 100 * Double(sorted.count - 1)).rounded()))
    return sorted[index]
}

func mean(_ values: [Double]) -> Double {
    values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
}

func format(_ value: Double) -> String {
    String(format: "%.3f", value)
}

extension Duration {
    var milliseconds: Double { seconds * 1000 }
}
