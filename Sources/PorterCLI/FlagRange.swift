import ArgumentParser

/// The values a numeric flag allows. Commands check their flags against these in `validate()`,
/// so that a value out of range stops the command with the flag's name and the range, before
/// it can trap in arithmetic (`samples + 100`, `0..<batches`) or come back from an `integer`
/// column as a server error.
package struct FlagRange {
    package let flag: String
    package let range: ClosedRange<Int>
    /// What the flag takes, as the error says it: "a whole number of seconds".
    package let noun: String

    package init(_ flag: String, _ range: ClosedRange<Int>, of noun: String = "a whole number") {
        self.flag = flag
        self.range = range
        self.noun = noun
    }

    /// The range as help text shows it: `1 to 2147483`.
    package var text: String { "\(range.lowerBound) to \(range.upperBound)" }

    /// Throws a usage error naming the flag and the range when `value` is outside it; nil (a
    /// flag not given) passes.
    package func check(_ value: Int?) throws {
        guard let value, !range.contains(value) else { return }
        throw ValidationError("\(flag) \(value) is out of range; use \(noun) from \(text).")
    }
}
