import Foundation
import PorterPostgres
import Testing

/// The JSON text Porter writes for values JSON has no type of its own for: what clients in
/// other languages read and write.
@Suite struct PostgresJSONTests {
    struct Stamp: Codable, Equatable {
        var at: Date
    }

    @Test func datesAreWrittenInUTCWithMillisecondsRounded() throws {
        #expect(try PQJSON(encoding: Stamp(at: Date(timeIntervalSince1970: 1_796_119_200.123_4))).text
            == #"{"at":"2026-12-01T10:00:00.123Z"}"#)
        #expect(try PQJSON(encoding: Stamp(at: Date(timeIntervalSince1970: 1_796_119_200))).text
            == #"{"at":"2026-12-01T10:00:00.000Z"}"#)
        // Rounding carries into the second, and dates before 1970 count the right way.
        #expect(try PQJSON(encoding: Stamp(at: Date(timeIntervalSince1970: 1_796_119_199.999_7))).text
            == #"{"at":"2026-12-01T10:00:00.000Z"}"#)
        #expect(try PQJSON(encoding: Stamp(at: Date(timeIntervalSince1970: -0.25))).text
            == #"{"at":"1969-12-31T23:59:59.750Z"}"#)
    }

    @Test func datesAreReadWithAnyFractionOrOffset() throws {
        for (text, seconds) in [
            ("2026-12-01T10:00:00.123Z", 1_796_119_200.123),
            ("2026-12-01T10:00:00Z", 1_796_119_200.0),  // as Porter wrote dates before
            ("2026-12-01T10:00:00.123456+00:00", 1_796_119_200.123_456),  // PostgreSQL's to_jsonb
            ("2026-12-01T11:30:00.5+01:30", 1_796_119_200.5),
            ("2026-12-01T05:00:00-05:00", 1_796_119_200.0),
        ] {
            let stamp = try PQJSON(text: #"{"at":"\#(text)"}"#).decode(Stamp.self)
            #expect((stamp.at.timeIntervalSince1970 * 1_000_000).rounded() == (seconds * 1_000_000).rounded(), "\(text)")
        }
    }

    @Test func aDateInAnotherFormIsRefusedNamingTheFormExpected() throws {
        for text in [#""1 December 2026""#, #""2026-12-01T10:00""#, "1796119200"] {
            let error = #expect(throws: DecodingError.self) {
                try PQJSON(text: #"{"at":\#(text)}"#).decode(Stamp.self)
            }
            #expect("\(String(describing: error))".contains("2026-12-01T10:00:00.123Z"), "\(text)")
        }
    }

    @Test func dateWrittenIsTheDateReadToTheMillisecond() throws {
        for seconds in [0, 1_796_119_200.123, 1_700_000_000.999, 4_102_444_799.001, -86_400.5] {
            let date = Date(timeIntervalSince1970: seconds)
            let back = try PQJSON(encoding: Stamp(at: date)).decode(Stamp.self).at
            #expect((back.timeIntervalSince1970 * 1000).rounded() == (seconds * 1000).rounded(), "\(seconds)")
        }
    }

    /// Other types keep the text JSONEncoder always gave them, so rows already queued still read.
    @Test func otherTypesKeepTheirWireFormat() throws {
        struct Values: Codable, Equatable {
            var amount: Decimal
            var bytes: Data
            var id: UUID
            var link: URL
            var note: String?
            var counts: [String: Int]
        }
        let values = Values(
            amount: Decimal(string: "12345.6789")!, bytes: Data([0, 1, 0xfe, 0xff]),
            id: UUID(uuidString: "0F5E3D2C-1B0A-4987-8654-3210FEDCBA98")!,
            link: URL(string: "https://example.com/a/b")!, note: nil, counts: ["z": 1, "a": 2])
        let json = try PQJSON(encoding: values)
        #expect(json.text == #"{"amount":12345.6789,"bytes":"AAH+/w==","counts":{"a":2,"z":1},"id":"0F5E3D2C-1B0A-4987-8654-3210FEDCBA98","link":"https://example.com/a/b"}"#)
        let back = try json.decode(Values.self)
        #expect(back == values)
        #expect(back.amount == Decimal(string: "12345.6789")!)
    }
}
