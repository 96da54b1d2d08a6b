import Foundation
import SubterraDatasets
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraNetwork
import Testing

@testable import SubterraRequests

/// `JSONValueEncoder` gives exactly what `AnswerJSON`'s encoder writes, read back with sorted
/// keys (the oracle the HTTP service used before: encode to text, decode with `AnyJSON`).
@Suite struct JSONValueEncoderTests {
    static let district = DistrictGenerator(segments: 3000, seed: 42).district().network
    static let runner = RequestRunner(
        engine: try! UtilityEngine(network: district), network: NetworkSource(district))

    func oracle<T: Encodable>(_ value: T) throws -> JSONValue {
        let data = try AnswerJSON.encoder(pretty: false).encode(value)
        return try JSONDecoder().decode(AnyJSON.self, from: data).value
    }

    /// A type that uses every container kind, optionals, non-finite numbers, integer widths,
    /// nested and super encoders, dictionaries and a key written twice.
    struct Everything: Encodable {
        enum K: String, CodingKey { case a, b, Z, nested, list, opt, none, dict, ints, odd, sup, twice }
        var doubles: [Double] = [1.5, -0.0, .infinity, -.infinity, .nan, 1e300, .leastNonzeroMagnitude]
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: K.self)
            try c.encode("x", forKey: .a)
            try c.encode(true, forKey: .b)
            try c.encode(3, forKey: .Z)
            var n = c.nestedContainer(keyedBy: K.self, forKey: .nested)
            try n.encode(doubles, forKey: .list)
            try n.encodeNil(forKey: .none)
            var u = c.nestedUnkeyedContainer(forKey: .list)
            try u.encode(Int8(-3))
            try u.encode(UInt64(1) << 40)
            try u.encodeNil()
            var inner = u.nestedContainer(keyedBy: K.self)
            try inner.encode("deep", forKey: .a)
            var innerList = u.nestedUnkeyedContainer()
            try innerList.encode(Float(2.5))
            try c.encodeIfPresent(Optional<Int>.none, forKey: .opt)
            try c.encode(["b": 1, "a": 2, "B": 3, "ä": 4], forKey: .dict)
            try c.encode([Int32.min, Int32.max], forKey: .ints)
            try c.encode([Double.nan], forKey: .odd)
            try Optional(7).encode(to: c.superEncoder(forKey: .sup))
            try c.encode(1, forKey: .twice)
            try c.encode("last", forKey: .twice)
        }
    }

    /// JSON compares NaN with itself as a string, so `==` works on both sides.
    @Test func everyContainerKindMatchesTheTextRoundTrip() throws {
        let v = try JSONValueEncoder().encode(Everything())
        #expect(v == (try oracle(Everything())))
        guard case .object(let o) = v else { Issue.record("not an object"); return }
        #expect(o.keys == o.keys.sorted(), "members sorted")
        #expect(o["twice"] == .string("last"))
        #expect(try JSONValueEncoder().encode([String]()) == .array([]))
        #expect(try JSONValueEncoder().encode("top") == .string("top"))
    }

    /// Every kind of answer a batch line or the service gives, on a generated district: the
    /// value path and the text path agree, member for member.
    @Test func answersOfEveryOpMatchTheTextRoundTrip() throws {
        let r = Self.runner
        let segments = Self.district.segments
        var lines: [String] = []
        for i in 0..<25 {
            // Near a vertex of a pipe, so that the answers hold pipes.
            let v = segments[(i * 7919) % segments.count].geometry.points[0]
            let (x, y) = (v.x - 5, v.y - 4)
            let sq = "POLYGON ((\(x) \(y), \(x + 15) \(y), \(x + 15) \(y + 12), \(x) \(y + 12), \(x) \(y)))"
            lines += [
                #"{"op":"nearest","geometry":"POINT (\#(x) \#(y))","k":5}"#,
                #"{"op":"within","geometry":"POINT (\#(x) \#(y))","distance":30}"#,
                #"{"op":"intersects","geometry":"\#(sq)"}"#,
                #"{"op":"check-dig","geometry":"\#(sq)","depth":2.5}"#,
                #"{"op":"section","geometry":"LINESTRING (\#(x) \#(y), \#(x + 40) \#(y + 5))"}"#,
                #"{"op":"check-route","geometry":"LINESTRING (\#(x) \#(y), \#(x + 60) \#(y))","layer":"JS","depth":1.5}"#,
            ]
        }
        var nonEmpty = 0
        for line in lines {
            let q = try JSONDecoder().decode(QueryRequest.self, from: Data(line.utf8))
            let text = try r.result(for: q)
            let viaText = try JSONDecoder().decode(AnyJSON.self, from: Data(text.utf8)).value
            let direct = try r.resultValue(for: q)
            #expect(direct == viaText, "\(line)")
            if text.count > 200 { nonEmpty += 1 }
        }
        #expect(nonEmpty > 20, "the probes found pipes (\(nonEmpty) sizeable answers)")
    }

    @Test func lineWritesWhatJSONDecoderReadsBack() throws {
        struct Row: Codable, Equatable { var a: String; var b: [Double]?; var c: Int }
        let rows = [Row(a: "\"quoted\" \u{0}\u{1F}é中\u{0301}", b: [0.1, 1e-7, 123456789.125], c: -42), Row(a: "", b: nil, c: 0)]
        for row in rows {
            let bytes = try #require(AnswerJSON.line(row))
            #expect(!bytes.contains(UInt8(ascii: "\n")))
            #expect(try JSONDecoder().decode(Row.self, from: Data(bytes)) == row)
        }
    }
}
