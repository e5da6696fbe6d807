import Foundation
@testable import Porter
import PropertyBased
import Testing

/// Every cron string parses to an expression whose next fire time can be computed, or is
/// refused with a `CronError`; none traps (a trap takes down the scheduler and a worker run
/// with --scheduler).
@Suite struct CronPropertyTests {
    static let tokens = [
        "*", "*/", "/", "-", ",", " ", " ", " ", "\t", "0", "5", "7", "12", "23", "31", "59", "60", "99", "-1",
        "9223372036854775807", "9223372036854775808", "99999999999999999999", "JAN", "dec", "SUN", "sat", "MON-FRI",
        "@hourly", "@daily", "@foo", "@", "?", "L", "#", "1-", "-5", "5-3", "0/0", "*/0", "\u{0}", "é",
    ]

    static let expression = Gen<String>.oneOf(
        Gen.element(of: tokens).map { $0! }.array(of: 0...14).map { $0.joined() },
        // Five fields of list, range and step pieces, the shape cron reads.
        Gen.element(of: tokens).map { $0! }.array(of: 1...3).map { $0.joined() }.array(of: 5).map { $0.joined(separator: " ") },
        Gen.element(of: [
            "59/9223372036854775807 * * * *", "0 23/9223372036854775807 * * *", "* * 31/9223372036854775806 * *",
            "0-59/9223372036854775807 * * * *", "*/9223372036854775807 * * * *", "0 0 30 2 *", "@annually",
        ]).map { $0! }
    )

    @Test func everyCronStringParsesAndFiresOrIsRefusedWithACronError() async {
        let utc = TimeZone(identifier: "UTC")!
        let now = Date(timeIntervalSince1970: 1_767_258_000)
        await propertyCheck(count: 3000, input: Self.expression) { text in
            do {
                let cron = try CronExpression(text)
                if let next = cron.nextFire(after: now, in: utc) {
                    #expect(next > now, "\(text)")
                    #expect(cron.matches(CivilTime(next, in: utc)), "\(text) fires at \(next), which it does not match")
                }
                var schedule = ScheduleConfiguration()
                try? schedule.add(cron: text, method: "m")
            } catch is CronError {
                // Refused, quoting the expression.
            } catch {
                Issue.record("\(text): not a CronError: \(error)")
            }
        }
    }

    @Test(arguments: ["59/9223372036854775807 * * * *", "0 23/9223372036854775807 * * *", "*/9223372036854775807 * * * *"])
    func aStepBeyondTheFieldIsTheFirstValueOnly(_ text: String) throws {
        let cron = try CronExpression(text)
        let first = Int(text.prefix { $0 != "/" }) ?? 0
        #expect(cron.minutes == (text.hasPrefix("0 ") ? [0] : [first]))
    }
}
