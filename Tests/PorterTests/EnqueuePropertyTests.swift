import Foundation
import Porter
import PorterPostgres
import PorterTesting
import PropertyBased
import Testing

/// Every input to an enqueue gives a job row that is what was asked for, or an error with a
/// specific SQLSTATE and no row at all; and no input traps.
@Suite struct EnqueuePropertyTests {
    /// The numbers an integer option may be given: at and past `integer`'s edges, and any.
    static let integers = Gen<Int>.oneOf(
        Gen.element(of: [0, 1, -1, 300, Int(Int32.max), Int(Int32.max) + 1, Int(Int32.min), Int(Int32.min) - 1, .max, .min])
            .map { $0! },
        Gen.int()
    )

    /// Times at and past what `timestamptz` holds (4713 BC to 294276 AD), and ones no time is.
    static let times = Gen<Date?>.oneOf(
        Gen.element(of: [
            nil, Date.distantPast, Date.distantFuture, Date(timeIntervalSince1970: 9.2e12), Date(timeIntervalSince1970: -2.2e11),
            Date(timeIntervalSince1970: 1e300), Date(timeIntervalSince1970: -1e300), Date(timeIntervalSince1970: .nan),
            Date(timeIntervalSince1970: .infinity), Date().addingTimeInterval(3600),
        ]).map { $0! },
        Gen.double(in: -1e14...1e14).map { Date(timeIntervalSince1970: $0) },
        Gen.double(in: -2e11...2e11).map { Date(timeIntervalSince1970: $0) },
        Gen.double(in: -2e11...2e11).map { Date(timeIntervalSince1970: $0) }
    )

    static let request = zip(
        zip(HostileText.name, HostileText.json, HostileText.name, HostileText.name.optional(valueRate: 0.3)),
        zip(integers.optional(valueRate: 0.2), integers.optional(valueRate: 0.3), integers.optional(valueRate: 0.2), times.optional(valueRate: 0.3)),
        zip(Gen.double(in: -1e13...1e13).optional(valueRate: 0.1), Gen.bool, Gen.bool(0.1), Gen.int(in: 0...9))
    ).map { names, numbers, flags in
        let (method, args, queue, jobID) = names
        let (timeout, priority, maxAttempts, runAt) = numbers
        let (delay, atFront, deduplicate, dependency) = flags
        let options = EnqueueOptions(
            queue: dependency < 5 ? "default" : queue,
            timeout: timeout, jobID: jobID, deduplicate: deduplicate, atFront: atFront, runAt: runAt ?? nil,
            delay: delay.map { .seconds($0) }, priority: priority ?? 0, maxAttempts: maxAttempts,
            dependsOn: dependency == 9 ? [999_999_999] : (dependency == 8 ? [1] : []))
        return EnqueueRequest(method: method, args: PQJSON(text: args), options: options)
    }

    /// The SQLSTATEs a refused enqueue may give: bad or null values, limits, out-of-range
    /// numbers and times, text PostgreSQL cannot hold, JSON too deep, and duplicates.
    static let refusals: Set<String> = [
        "22004", "22023", "54000", "22P02", "22003", "22008", "22007", "22021", "22P05", "54001", "23505",
    ]

    /// Years before 1 AD are sent as PostgreSQL reads them (`0100-12-31 ... BC`), not as a
    /// minus sign it took for a time zone (22009).
    @Test func aDateBeforeOneADIsSentAsBC() async throws {
        let database = try await TestDatabase.create()
        let connection = try await database.connect()
        let date = Date(timeIntervalSince1970: -65_000_000_000)  // in 91 BC
        let text = try await connection.query("SELECT \(date)::timestamptz::text").single(String.self)
        #expect(text.hasSuffix(" BC"), "\(text)")
        #expect(text.hasPrefix("0091-"), "\(text)")
        await connection.close()
    }

    @Test func everyEnqueueGivesTheRowAskedForOrASpecificErrorAndNoRow() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        // Job 1 exists, for requests that depend on it.
        _ = try await porter.enqueue(method: "parent")
        var enqueued = 0
        var refused: [String: Int] = [:]
        await propertyCheck(count: 400, input: Self.request.array(of: 1...4)) { requests in
            let before = try await porter.pool.query("SELECT count(*) FROM porter.jobs").single(Int.self)
            do {
                let results = requests.count == 1 ? [try await porter.enqueue(requests[0])] : try await porter.enqueueMany(requests)
                #expect(results.count == requests.count)
                var added = 0
                for (request, result) in zip(requests, results) {
                    guard let id = result.id else {
                        #expect(request.options.deduplicate, "skipped without deduplicate: \(request.method)")
                        continue
                    }
                    added += 1
                    let options = request.options
                    let row = try #require(try await porter.pool.query("""
                        SELECT method = \(request.method), queue = \(options.queue),
                               job_id IS NOT DISTINCT FROM \(options.jobID), args = \(request.args)::jsonb,
                               status IN ('queued', 'scheduled', 'deferred', 'canceled'),
                               priority = \(options.priority) AND at_front = \(options.atFront)
                                   AND timeout IS NOT DISTINCT FROM \(options.timeout)
                                   AND max_attempts IS NOT DISTINCT FROM \(options.maxAttempts)
                                   AND (\(options.runAt)::timestamptz IS NULL OR run_at = \(options.runAt)::timestamptz)
                                   AND depends_on IS NOT DISTINCT FROM \(options.dependsOn.isEmpty ? nil : options.dependsOn)::bigint[]
                        FROM porter.jobs WHERE id = \(id)
                        """).first)
                    let (method, queue, jobID, args, status) = try row.decode((Bool, Bool, Bool, Bool, Bool).self)
                    #expect(method && queue && jobID && args && status, "job \(id) differs from its request")
                    #expect(try row.decode(Bool.self, at: 5), "job \(id)'s options differ from its request: \(options)")
                }
                #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs").single(Int.self) == before + added)
                enqueued += added
            } catch {
                let state = (error as? PorterError)?.sqlState?.rawValue ?? (error as? PQError)?.sqlState?.rawValue
                #expect(state.map(Self.refusals.contains) == true, "not a specific refusal: \(error)")
                refused[state ?? "none", default: 0] += 1
                #expect(try await porter.pool.query("SELECT count(*) FROM porter.jobs").single(Int.self) == before, "a refused enqueue left rows: \(error)")
            }
        }
        // The inputs reached both sides: some jobs were made and several kinds refused. (How
        // many are valid depends on the random inputs; one run made only 8 of 400.)
        #expect(enqueued > 0, "\(refused)")
        #expect(refused.count >= 4, "\(refused)")
        await porter.close()
    }

    /// Every job option at the edges of `integer`, on the SQL side.
    @Test func integerOptionsAtTheirEdgesGiveAJobOrOutOfRange() async throws {
        let database = try await TestDatabase.create()
        let connection = try await database.connect()
        for option in ["timeout", "priority", "max_attempts"] {
            for value in ["2147483647", "-2147483648", "2147483648", "-2147483649", "0", "-1"] {
                do {
                    let id = try await connection.query(
                        "SELECT porter.enqueue('m', \(unsafeRaw: option) => '\(unsafeRaw: value)')").single(Int64.self)
                    #expect(try await connection.query("SELECT \(unsafeRaw: option)::text FROM porter.jobs WHERE id = \(id)").single(String.self) == value)
                } catch let error as PQError {
                    #expect(["22003", "22023"].contains(error.sqlState?.rawValue ?? ""), "\(option) => \(value): \(error)")
                }
            }
        }
        await connection.close()
    }
}
