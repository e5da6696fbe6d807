import ArgumentParser
import Foundation
import PorterBench
@testable import PorterCLI
import PropertyBased
import Testing

/// A numeric flag of a `porter` command and the values it allows.
struct NumericFlag: Sendable, CustomTestStringConvertible {
    /// The command line before the flag, e.g. `bench burndown`.
    var command: [String]
    var flag: String
    var range: ClosedRange<Int>

    var testDescription: String { (command + [flag]).joined(separator: " ") }

    /// Parses the command line with the flag at `value`, running every `validate()`.
    func parse(_ value: Int) throws {
        Self.addBenchCommands
        _ = try PorterCommand.parseAsRoot(command + ["\(flag)=\(value)"])
    }

    /// The benchmarks are the `porter` executable's, not the library's: added as it adds them,
    /// once for every test.
    static let addBenchCommands: Void = { PorterCLI.addedCommands = PorterBench.commands }()

    /// Every numeric flag, with its documented range.
    static let all: [NumericFlag] = [
        NumericFlag(command: ["enqueue", "m"], flag: "--timeout", range: 1...2_147_483),
        NumericFlag(command: ["enqueue", "m"], flag: "--priority", range: -2_147_483_648...2_147_483_647),
        NumericFlag(command: ["enqueue", "m"], flag: "--max-attempts", range: 1...2_147_483_647),
        NumericFlag(command: ["jobs"], flag: "--limit", range: 1...100_000),
        NumericFlag(command: ["bench", "enqueue"], flag: "--samples", range: 1...1_000_000),
        NumericFlag(command: ["bench", "enqueue"], flag: "--batches", range: 1...1_000_000),
        NumericFlag(command: ["bench", "enqueue"], flag: "--batch-size", range: 1...100_000),
        NumericFlag(command: ["bench", "burndown"], flag: "--jobs", range: 1...10_000_000),
        NumericFlag(command: ["bench", "burndown"], flag: "--concurrency", range: 1...10_000),
        NumericFlag(command: ["bench", "burndown"], flag: "--history", range: 0...100_000_000),
        NumericFlag(command: ["bench", "continuous"], flag: "--seconds", range: 1...86_400),
        NumericFlag(command: ["bench", "continuous"], flag: "--concurrency", range: 1...10_000),
        NumericFlag(command: ["bench", "latency"], flag: "--jobs", range: 1...1_000_000),
        NumericFlag(command: ["bench", "stats"], flag: "--finished", range: 0...100_000_000),
        NumericFlag(command: ["bench", "stats"], flag: "--queued", range: 0...100_000_000),
        NumericFlag(command: ["bench", "stats"], flag: "--samples", range: 1...100_000),
        NumericFlag(command: ["stats"], flag: "--interval", range: 1...3600),
        NumericFlag(command: ["worker"], flag: "--metrics-port", range: 0...65_535),
        NumericFlag(command: ["dashboard"], flag: "--port", range: 0...65_535),
    ]
}

@Suite struct CLIFlagRangeTests {
    @Test(arguments: NumericFlag.all)
    func theLowestAndHighestAllowedValuesAreTaken(_ flag: NumericFlag) throws {
        try flag.parse(flag.range.lowerBound)
        try flag.parse(flag.range.upperBound)
    }

    @Test(arguments: NumericFlag.all)
    func valuesJustOutsideTheRangeAreRefusedNamingTheFlagAndTheRange(_ flag: NumericFlag) throws {
        for value in [flag.range.lowerBound - 1, flag.range.upperBound + 1, Int.min, Int.max] {
            let error = #expect(throws: (any Error).self, "\(flag.flag)=\(value)") { try flag.parse(value) }
            let message = error.map { PorterCommand.message(for: $0) } ?? ""
            #expect(message.contains("\(flag.flag) \(value) is out of range; use a whole number"), "\(message)")
            #expect(message.contains("from \(flag.range.lowerBound) to \(flag.range.upperBound)."), "\(message)")
        }
    }

    @Test func aNumberTooLongForAnIntIsRefusedByTheParserNamingTheFlag() throws {
        let error = #expect(throws: (any Error).self) { try PorterCommand.parseAsRoot(["enqueue", "m", "--priority=99999999999999999999"]) }
        #expect(error.map { PorterCommand.message(for: $0) }?.contains("--priority") == true)
    }

    @Test(arguments: [
        ("+0s", 0), ("+3155760000s", 3_155_760_000), ("+52596000m", 3_155_760_000), ("+876600h", 3_155_760_000),
        ("+36525d", 3_155_760_000),
    ])
    func runAtTakesDelaysUpToAHundredYears(_ text: String, _ seconds: Int64) throws {
        #expect(try EnqueueCommand.parseRunAt(text) == .delay(.seconds(seconds)))
    }

    @Test(arguments: ["+3155760001s", "+52596001m", "+876601h", "+36526d", "+99999999999999999d", "+99999999999999999999999s"])
    func runAtRefusesDelaysOfMoreThanAHundredYearsNamingTheFlag(_ text: String) throws {
        let error = #expect(throws: ValidationError.self) { try EnqueueCommand.parseRunAt(text) }
        #expect(error?.message == "--run-at \(text) is too far ahead; use a delay of at most 100 years (+36525d, +876600h, +52596000m, +3155760000s) or an ISO 8601 time.")
    }

    @Test(arguments: [("30s", 30), ("15m", 900), ("2h", 7200), ("7d", 604_800), ("36525d", 3_155_760_000)])
    func olderThanTakesSpansUpToAHundredYears(_ text: String, _ seconds: Int64) throws {
        #expect(try AgeFlag.duration(text, flag: "--older-than") == .seconds(seconds))
    }

    @Test(arguments: ["36526d", "99999999999999999999999s", "7 d", "d", "-1d", "1w", ""])
    func olderThanRefusesAnythingElseNamingTheFlag(_ text: String) throws {
        let error = #expect(throws: ValidationError.self) { try AgeFlag.duration(text, flag: "--older-than") }
        #expect(error?.message.hasPrefix("--older-than \(text) is") == true)
    }

    @Test func sinceTakesATimeOrASpanAgo() throws {
        let now = Date(timeIntervalSince1970: 2_000_000_000)
        #expect(try AgeFlag.since("2h", now: now) == now.addingTimeInterval(-7200))
        #expect(try AgeFlag.since("2026-12-01T09:00:00Z", now: now) == Date(timeIntervalSince1970: 1_796_115_600))
        #expect(throws: ValidationError.self) { try AgeFlag.since("yesterday", now: now) }
    }

    @Test func dependsOnRefusesIDsBelowOne() throws {
        let error = #expect(throws: (any Error).self) { try PorterCommand.parseAsRoot(["enqueue", "m", "--depends-on", "41,0"]) }
        #expect(error.map { PorterCommand.message(for: $0) }?.contains("--depends-on takes job ids") == true)
    }

    @Test func everyFlagValueIsTakenWithinItsRangeAndRefusedOutsideIt() async {
        // A value anywhere in Int, or within 3 of either bound.
        await propertyCheck(
            count: 1000, input: Gen.element(of: NumericFlag.all).map { $0! }, Gen.int(in: 0...2), Gen.int(), Gen.int(in: -3...3)
        ) { flag, pick, anywhere, offset in
            let value = [anywhere, flag.range.lowerBound + offset, flag.range.upperBound + offset][pick]
            do {
                try flag.parse(value)
                #expect(flag.range.contains(value), "\(flag.flag)=\(value) was taken")
            } catch {
                #expect(!flag.range.contains(value), "\(flag.flag)=\(value): \(PorterCommand.message(for: error))")
            }
        }
    }

    @Test func everyRunAtDelayIsAtMostAHundredYearsOrRefused() async {
        let amounts = Gen<String>.oneOf(
            Gen.int(in: 0...Int.max).map { "\($0)" },
            Gen.int(in: 0...4_000_000_000).map { "\($0)" },
            Gen<Character>.number.string(of: 1...40)
        )
        await propertyCheck(count: 2000, input: amounts, Gen.element(of: ["s", "m", "h", "d"]).map { $0! }) { amount, unit in
            do {
                guard case .delay(let delay) = try EnqueueCommand.parseRunAt("+\(amount)\(unit)") else {
                    Issue.record("+\(amount)\(unit) was read as a time")
                    return
                }
                #expect(delay >= .zero && delay <= .seconds(EnqueueCommand.longestDelay), "+\(amount)\(unit) gave \(delay)")
            } catch is ValidationError {
                // Too far ahead, refused naming --run-at.
            } catch {
                Issue.record("+\(amount)\(unit): \(error)")
            }
        }
    }
}
