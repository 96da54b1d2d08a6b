import SubterraGeometry
import Testing

@testable import SubterraRequests

/// Geometry text is read with Unicode white space (newlines, tabs, no-break and ideographic
/// spaces) trimmed off both ends, and nothing else changed.
@Suite struct GeometryInputTrimTests {
    let limits = RequestLimits.default

    @Test func whiteSpaceAroundIsIgnored() throws {
        for pad in ["", " ", "\n\t ", "\u{00A0}", "\u{3000}\r\n", "\u{2028}"] {
            let wkt = try GeometryInput.parse(pad + "POINT (1 2)" + pad, crs: nil, feature: nil, limits: limits, origin: "geometry")
            #expect(wkt.geometry == .point(Point(1, 2)), "pad \(pad.unicodeScalars.map(\.value))")
            let json = try GeometryInput.parse(
                pad + #"{"type":"Point","coordinates":[1,2]}"# + pad, crs: nil, feature: nil, limits: limits, origin: "geometry")
            #expect(json.geometry == .point(Point(1, 2)))
        }
    }

    @Test func blankOrFileNamesAreRefused() {
        for text in ["", "  \n\t\u{3000}", " @site.wkt "] {
            #expect(throws: RequestError.self) { try GeometryInput.parse(text, crs: nil, feature: nil, limits: limits, origin: "geometry") }
        }
    }
}
