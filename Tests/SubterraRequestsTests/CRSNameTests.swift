import Foundation
@testable import SubterraRequests
import Testing

/// The hand-written CRS name check against the regular expressions it replaced, on names built
/// from the grammar's own pieces, broken copies of them, and random strings.
@Suite struct CRSNameTests {
    static func oracle(_ crs: String) -> Bool {
        let authority = #/^[A-Za-z][A-Za-z0-9_]{0,31}:[A-Za-z0-9_.-]{1,32}$/#
        let urn = #/^urn:ogc:def:crs:[A-Za-z][A-Za-z0-9_]{0,31}:[0-9.]{0,16}:[A-Za-z0-9_.-]{1,32}$/#
        let uri = #/^https?://www\.opengis\.net/def/crs/[A-Za-z][A-Za-z0-9_]{0,31}/[0-9.]{1,16}/[A-Za-z0-9_.-]{1,32}$/#
        return crs.wholeMatch(of: authority) != nil || crs.wholeMatch(of: urn) != nil || crs.wholeMatch(of: uri) != nil
    }

    @Test func agreesWithTheRegularExpressions() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("aZ09_.-:/ épsgEPSGOGCurnhttps:/www.opengis.net/def/crs/\u{0301}\n")
        func piece(_ n: Int) -> String { String((0..<n).map { _ in alphabet.randomElement(using: &rng)! }) }
        var names = ["EPSG:4326", "OGC:CRS84", "epsg:4549", "urn:ogc:def:crs:EPSG::4326", "urn:ogc:def:crs:OGC:1.3:CRS84",
                     "http://www.opengis.net/def/crs/EPSG/0/4549", "https://www.opengis.net/def/crs/OGC/1.3/CRS84",
                     "http://www.opengis.net/def/crs/EPSG//4549", "EPSG:", ":4326", "4326:EPSG", "EPSG:4326:1", "E:" + String(repeating: "1", count: 32),
                     "E:" + String(repeating: "1", count: 33), String(repeating: "A", count: 32) + ":1", String(repeating: "A", count: 33) + ":1",
                     "urn:ogc:def:crs:EPSG:" + String(repeating: "1", count: 17) + ":4326", "+proj=longlat", "", "EPSG:43\u{0301}26"]
        for _ in 0..<20_000 {
            let prefix = ["", "urn:ogc:def:crs:", "http://www.opengis.net/def/crs/", "https://www.opengis.net/def/crs/"].randomElement(using: &rng)!
            let sep = prefix.hasPrefix("http") ? "/" : ":"
            var parts = [piece(Int.random(in: 0...5, using: &rng)), piece(Int.random(in: 0...4, using: &rng))]
            if !prefix.isEmpty { parts.append(piece(Int.random(in: 0...5, using: &rng))) }
            names.append(prefix + parts.joined(separator: sep))
        }
        for n in names where !n.hasSuffix("\n") {
            #expect(RequestRunner.isCRSName(n) == Self.oracle(n), "\(n.debugDescription)")
        }
        #expect(!RequestRunner.isCRSName("EPSG:4326\n"), "no trailing newline")
    }
}
