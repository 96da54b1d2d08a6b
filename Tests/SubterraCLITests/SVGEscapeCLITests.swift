import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// Text in a rendered map is escaped scalar by scalar: a `<` or `"` followed by a combining mark
/// is one `Character` in Swift, and an escaper that compares `Character`s lets it through,
/// giving a malformed (or script-carrying) SVG.
@Suite struct SVGEscapeCLITests {
    /// Collects every text node and attribute value, and whether the document parsed.
    final class Texts: NSObject, XMLParserDelegate {
        var all = ""
        func parser(_ p: XMLParser, foundCharacters s: String) { all += s }
        func parser(_ p: XMLParser, didStartElement e: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            #expect(e.lowercased() != "script", "an owner name became a <script> element")
            all += attributes.values.joined(separator: " ")
        }
    }

    @Test func ownerNamesWithCombiningMarksAfterMarkupStayText() throws {
        let fx = try Fixture.shared.get()
        let dir = CLI.tempDir("svg-escape")
        // U+0301 (combining acute) after "<" and after the JSON-escaped quote.
        let hostile = "Gas <\u{0301}script>x</\u{0301}script> \\\"\u{0301} & Co."
        for f in ["segments.geojson", "points.geojson"] {
            var text = try String(contentsOfFile: fx.dir + "/" + f, encoding: .utf8)
            text = text.replacingOccurrences(of: "\"Gas Co.\"", with: "\"\(hostile)\"")
            try text.write(toFile: dir + "/" + f, atomically: true, encoding: .utf8)
        }
        let store = dir + "/hostile.gpkg"
        let imported = try CLI.run(["import", dir, "--store", store])
        #expect(imported.status == 0, "\(imported.stderr)")

        let cx = Fixture.x0 + Fixture.spacing, cy = Fixture.y0 + Fixture.spacing
        let pit = Oracle.wkt([(cx - 2, cy - 2), (cx + 2, cy - 2), (cx + 2, cy + 2), (cx - 2, cy + 2), (cx - 2, cy - 2)])
        let svg = dir + "/dig.svg"
        let r = try CLI.run(["render", "dig", pit, "--depth", "1.5", "--store", store, "--out", svg])
        #expect(r.status == 0, "\(r.stderr)")
        let data = try #require(FileManager.default.contents(atPath: svg))
        let parser = XMLParser(data: data)
        let texts = Texts()
        parser.delegate = texts
        #expect(parser.parse(), "the SVG is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
        let expected = "Gas <\u{0301}script>x</\u{0301}script> \"\u{0301} & Co."
        #expect(texts.all.unicodeScalars.count > 0)
        #expect(texts.all.contains(expected), "the owner name reads back as text")
    }
}
