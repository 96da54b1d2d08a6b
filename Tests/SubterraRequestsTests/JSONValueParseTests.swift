import Foundation
import SubterraGeometry
import SubterraRequests
import Testing

/// `JSONValue.parse` (the GeoJSON reader's value parser) against `JSONDecoder` reading
/// ``AnyJSON`` (the service's reader before) as the oracle, on valid documents of every shape,
/// and on invalid ones.
@Suite struct JSONValueParseTests {
    static func sorted(_ v: JSONValue) -> JSONValue {
        switch v {
        case .array(let a): return .array(a.map(sorted))
        case .object(let o):
            var out = JSONObject()
            for (k, x) in o.members.sorted(by: { $0.0 < $1.0 }) { out.append(k, sorted(x)) }
            return .object(out)
        default: return v
        }
    }

    @Test func validDocumentsEqualFoundation() throws {
        let docs = [
            #"{"a": 1, "b": [true, false, null, -0.5e3, "x\"y\\z\u00e9\ud83d\ude00"], "c": {"d": {}, "e": []}}"#,
            #"  [1, 2.25, 1E-7, 123456789012, -0, "中文"]  "#,
            #""just a string""#,
            "42",
            "\u{FEFF}{\"bom\": true}",
            #"{"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}, "depth": 1.5}"#,
        ]
        for d in docs {
            let ours = try JSONValue.parse(d)
            let stripped = d.hasPrefix("\u{FEFF}") ? String(d.dropFirst()) : d
            let theirs = try JSONDecoder().decode(AnyJSON.self, from: Data(stripped.utf8)).value
            #expect(Self.sorted(ours) == theirs, "\(d)")
        }
    }

    @Test func membersKeepDocumentOrder() throws {
        let v = try JSONValue.parse(#"{"z": 1, "a": 2, "m": 3}"#)
        #expect(v.objectValue?.keys == ["z", "a", "m"])
    }

    @Test func invalidDocumentsAreRefusedWithAnOffset() throws {
        let bad = [
            "", "   ", "{", "[1, 2", #"{"a" 1}"#, #"{"a": 1,}"#, "[1,]", "01", "1.", "-", "nul", "tru",
            #""unterminated"#, #""bad \x escape""#, "{} {}", "[1] x", "1e999", #"{"a": NaN}"#, "\"\u{1}\"",
        ]
        for d in bad {
            #expect(throws: GeometryError.self, "\(d.debugDescription)") { try JSONValue.parse(d) }
        }
        // Invalid UTF-8 inside a string is repaired, as `String(decoding:as:)` does (what the
        // service did to every body before `JSONDecoder` saw it).
        #expect(try JSONValue.parse([0x22, 0x61, 0xFF, 0x22]) == .string("a\u{FFFD}"))
    }

    @Test func nestingAndSizeAreBounded() throws {
        let limits = ParseLimits(maxDepth: 8, maxVertices: 10, maxBytes: 1000)
        let ok = String(repeating: "[", count: 8) + String(repeating: "]", count: 8)
        _ = try JSONValue.parse(ok, limits: limits)
        let deep = String(repeating: "[", count: 9) + String(repeating: "]", count: 9)
        #expect(throws: GeometryError.self) { try JSONValue.parse(deep, limits: limits) }
        // Far deeper than the ceiling: refused, not a stack overflow.
        let abyss = String(repeating: "[", count: 100_000)
        #expect(throws: GeometryError.self) { try JSONValue.parse(abyss) }
        #expect(throws: GeometryError.self) { try JSONValue.parse("[" + String(repeating: "1,", count: 600) + "1]", limits: limits) }
    }
}
