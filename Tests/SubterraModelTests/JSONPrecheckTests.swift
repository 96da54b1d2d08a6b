import Foundation
import SubterraGeometry
import SubterraModel
import Testing

/// `JSONPrecheck` and the field-mapping loader on hostile JSON: nesting 60,000 and 1,000,000 deep
/// is one line (the recursive duplicate-key pass this replaces overflowed the stack), nesting at
/// the limit passes, duplicate keys and oversized files are named.
@Suite struct JSONPrecheckTests {
    static let deepCounts = [60_000, 1_000_000]

    static func arrays(_ n: Int, closed: Bool = true) -> String {
        String(repeating: "[", count: n) + (closed ? String(repeating: "]", count: n) : "")
    }

    static func objects(_ n: Int, closed: Bool = true) -> String {
        String(repeating: #"{"a":"#, count: n) + "1" + (closed ? String(repeating: "}", count: n) : "")
    }

    @Test(arguments: deepCounts) func deepNestingIsRefusedWithOneLine(levels: Int) {
        for (text, path) in [
            (Self.arrays(levels), "[0][0][0]"), (Self.arrays(levels, closed: false), "[0][0][0]"),
            (Self.objects(levels), "a.a.a"), (Self.objects(levels, closed: false), "a.a.a"),
        ] {
            let p = JSONPrecheck.check(Array(text.utf8))
            guard case .tooDeep(64, let offset, let at) = p else {
                Issue.record("\(String(describing: p))")
                continue
            }
            #expect(offset == (text.hasPrefix("[") ? 64 : 64 * 5))
            #expect(at.hasPrefix(path) && !at.contains("\n"))
        }
    }

    @Test func nestingAtTheLimitPasses() {
        #expect(JSONPrecheck.check(Array(Self.arrays(64).utf8)) == nil)
        #expect(JSONPrecheck.check(Array(Self.objects(64).utf8)) == nil)
        #expect(JSONPrecheck.check(Array(Self.arrays(65).utf8))
            == .tooDeep(limit: 64, offset: 64, path: Array(repeating: "[0]", count: 64).joined()))
        #expect(JSONPrecheck.check(Array(#"{"a": [1, {"b": [[2]]}]}"#.utf8), limits: ParseLimits(maxDepth: 5)) == nil)
        #expect(JSONPrecheck.check(Array(#"{"a": [1, {"b": [[2]]}]}"#.utf8), limits: ParseLimits(maxDepth: 4))?.description
            == "a[1].b[0]: nesting deeper than 4 levels (maxDepth) at byte 17")
    }

    @Test func duplicatesSizeAndMalformedInput() {
        #expect(JSONPrecheck.check(Array(#"{"a": 1, "a": 2}"#.utf8)) == .duplicateKey(path: "top level", key: "a"))
        #expect(JSONPrecheck.check(Array(#"{"x": [{}, {"a": {"b": 1, "b": 2}}]}"#.utf8))?.description
            == #"x[1].a: key "b" appears twice"#)
        #expect(JSONPrecheck.check(Array(#"{"a": {"b": 1}, "c": {"b": 2}}"#.utf8)) == nil)
        #expect(JSONPrecheck.check(Array("[1,2]".utf8), limits: ParseLimits(maxBytes: 4)) == .tooLarge(bytes: 5, limit: 4))
        // Syntax errors are the decoder's to report.
        for bad in ["", "{", "[1,", #"{"a" 1}"#, #"{"a":"#, #""open"#, "nope", "\u{FEFF}[1]", "[1}", "{]"] {
            #expect(JSONPrecheck.check(Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    @Test(arguments: deepCounts) func mappingLoaderRefusesDeepNesting(levels: Int) {
        for text in [Self.arrays(levels), #"{"fields": "# + Self.objects(levels, closed: false)] {
            let e = #expect(throws: ImportError.self) { try FieldMapping.decode(Data(text.utf8), file: "m.json") }
            #expect(e?.message.contains("nesting deeper than 64 levels (maxDepth) at byte") == true, "\(e?.message ?? "")")
            #expect(e?.description.contains("\n") == false)
        }
    }

    @Test func mappingLoaderRefusesDuplicateKeys() {
        let e = #expect(throws: ImportError.self) {
            try FieldMapping.decode(
                Data(#"{"fields": {"layer": {"constant": "PS"}, "layer": {"constant": "JS"}}}"#.utf8), file: "m.json")
        }
        #expect(e?.message == #"mapping, fields: key "layer" appears twice"#)
    }
}
