import Foundation
import PropertyBased

/// Text an attacker would send: names of every length around Porter's byte limits, made of
/// characters that need escaping or that Unicode takes for others, and JSON of every shape.
/// Built from random numbers, so `PropertyBased` can generate and repeat them.
enum HostileText {
    /// Characters of one to four bytes, quotes, backslashes, control characters, NUL, a
    /// lookalike (KELVIN SIGN for K) and a combining accent.
    static let palette: [String] = [
        "a", "Z", "0", "_", ".", ":", "-", " ", "\t", "\n", "'", "\"", "\\", "%", "$", "é", "€", "😀",
        "\u{212A}", "e\u{301}", "\u{7F}", "\u{1}", "\u{0}", "\u{FFFD}", "\u{200B}",
    ]

    /// A name of 0 to about 600 bytes: mostly plain letters, sometimes any of the palette.
    static let name = zip(
        Gen.int(in: 0...3), Gen.int(in: 0...600), Gen.int(in: 0...(palette.count - 1)), Gen.uint64()
    ).map { kind, length, pick, seed in
        switch kind {
        case 0: return ["", " ", "default", "short", "app.tasks.sync", "sql:app.record", "sql:", "\u{212A}app"][Int(seed % 8)]
        case 1: return String(repeating: "m", count: length)
        case 2: return String(repeating: palette[pick], count: max(1, length / 4))
        default:
            var text = ""
            var state = seed
            for _ in 0..<(length % 64) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                text += palette[Int(state >> 33) % palette.count]
            }
            return text
        }
    }

    /// JSON text: objects, arrays and scalars nested to any depth, numbers at and beyond every
    /// limit, strings with escapes (`\u0000` among them), now and then something too big or
    /// not JSON at all.
    static let json = zip(Gen.uint64(), Gen.int(in: 0...20)).map { seed, kind in
        switch kind {
        case 0: return "[1, 2]"
        case 1: return #""text""#
        case 2: return "{"
        case 3: return #"{"blob": "\#(String(repeating: "x", count: 1_100_000))"}"#
        case 4: return String(repeating: "[", count: 3000) + String(repeating: "]", count: 3000)
        case 5: return #"{"a": "\u0000"}"#
        case 6: return "{\"a\": \"b\u{0}c\"}"
        default:
            var state = seed
            return object(&state, depth: 0)
        }
    }

    private static func next(_ state: inout UInt64) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int(state >> 33)
    }

    private static let numbers = [
        "0", "-0", "1.5", "-1e-7", "2147483647", "2147483648", "-2147483649", "9223372036854775807",
        "9223372036854775808", "18446744073709551616", "1e308", "1e400", "-1e400", "123456789012345678901234567890.5",
    ]

    private static func value(_ state: inout UInt64, depth: Int) -> String {
        switch next(&state) % (depth > 6 ? 5 : 7) {
        case 0: return numbers[next(&state) % numbers.count]
        case 1: return ["true", "false", "null"][next(&state) % 3]
        case 2, 3, 4: return string(&state)
        case 5: return object(&state, depth: depth + 1)
        default:
            let count = next(&state) % 5
            return "[" + (0..<count).map { _ in value(&state, depth: depth + 1) }.joined(separator: ",") + "]"
        }
    }

    private static func object(_ state: inout UInt64, depth: Int) -> String {
        let count = next(&state) % 6
        return "{" + (0..<count).map { _ in string(&state) + ": " + value(&state, depth: depth) }.joined(separator: ", ") + "}"
    }

    /// A JSON string literal, escaped as JSON requires.
    private static func string(_ state: inout UInt64) -> String {
        var raw = ""
        for _ in 0..<(next(&state) % 12) {
            let character = palette[next(&state) % palette.count]
            // jsonb refuses \u0000 (22P05): rare enough that most objects are taken.
            if character == "\u{0}" && next(&state) % 20 != 0 { continue }
            raw += character
        }
        if next(&state) % 40 == 0 { raw = String(repeating: raw.isEmpty ? "x" : raw, count: 2000) }
        var literal = "\""
        for scalar in raw.unicodeScalars {
            switch scalar {
            case "\"": literal += "\\\""
            case "\\": literal += "\\\\"
            case _ where scalar.value < 0x20: literal += String(format: "\\u%04x", scalar.value)
            default: literal.unicodeScalars.append(scalar)
            }
        }
        return literal + "\""
    }
}
