import Foundation
import SubterraDatasets
import SubterraGeometry
import Testing
@testable import SubterraModel

/// The GeoPackage blob codec (the one place in the store that reads raw bytes) against the
/// geometry module's WKB reader/writer as oracle, plus truncation and bit-flip fuzzing.
@Suite("GeoPackage geometry codec")
struct StoreGeometryCodecTests {
    static func randomGeometry(_ rng: inout SplitMix64, z: Bool, depth: Int = 0) -> Geometry {
        func pt() -> Point { Point(rng.range(-1e6, 1e6), rng.range(-1e6, 1e6), z ? rng.range(-50, 50) : nil) }
        func line() -> LineString { try! LineString((0..<(2 + Int(rng.next() % 5))).map { _ in pt() }) }
        func ring() -> LinearRing {
            var ps = (0..<(3 + Int(rng.next() % 4))).map { _ in pt() }
            ps.append(ps[0])
            return try! LinearRing(ps)
        }
        func poly() -> Polygon { Polygon(exterior: ring(), holes: (0..<Int(rng.next() % 2)).map { _ in ring() }) }
        switch rng.next() % (depth == 0 ? 7 : 6) {
        case 0: return .point(pt())
        case 1: return .lineString(line())
        case 2: return .polygon(poly())
        case 3: return .multiPoint((0..<(1 + Int(rng.next() % 3))).map { _ in pt() })
        case 4: return .multiLineString((0..<(1 + Int(rng.next() % 3))).map { _ in line() })
        case 5: return .multiPolygon((0..<(1 + Int(rng.next() % 2))).map { _ in poly() })
        default: return .collection((0..<(1 + Int(rng.next() % 3))).map { _ in randomGeometry(&rng, z: z, depth: 1) })
        }
    }

    @Test("round trip and agreement with SubterraGeometry's WKB", arguments: [false, true])
    func roundTrip(z: Bool) throws {
        var rng = SplitMix64(seed: z ? 31 : 32)
        for _ in 0..<300 {
            let g = Self.randomGeometry(&rng, z: z)
            let blob = GeoPackageGeometry.encode(g, srsID: 4549)
            let d = try GeoPackageGeometry.decode(blob)
            #expect(d.geometry == g && d.srsID == 4549)
            #expect(d.headerEnvelope == g.envelope)
            let body = Array(blob[40...]) // 8-byte header + 32-byte envelope
            #expect(body == WKB.write(g, byteOrder: .littleEndian, flavor: .iso))
            #expect(try WKB.read(body).geometry == g)
            // Big-endian EWKB behind a big-endian header with no envelope reads the same.
            var be: [UInt8] = [0x47, 0x50, 0, 0]
            be += [0, 0, 0x11, 0xC5] // srs_id 4549 big-endian
            be += WKB.write(g, byteOrder: .bigEndian, flavor: .extended)
            let dbe = try GeoPackageGeometry.decode(be)
            #expect(dbe.geometry == g && dbe.srsID == 4549 && dbe.headerEnvelope == nil)
            #expect(blob.withUnsafeBytes { GeoPackageGeometry.envelope(of: $0) } == g.envelope)
        }
    }

    @Test("an empty-flagged blob and a missing height read back as such")
    func emptyAndPartialZ() throws {
        let empty: [UInt8] = [0x47, 0x50, 0, 0b1_0001, 0xC5, 0x11, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0xF8, 0x7F, 0, 0, 0, 0, 0, 0xF8, 0x7F]
        #expect(try GeoPackageGeometry.decode(empty).geometry == nil)
        let g = Geometry.lineString(try LineString([Point(1, 2, 3), Point(4, 5)]))
        #expect(try GeoPackageGeometry.decode(GeoPackageGeometry.encode(g, srsID: 0)).geometry == g)
    }

    @Test("truncated and bit-flipped blobs throw or decode, never crash")
    func fuzz() {
        var rng = SplitMix64(seed: 33)
        var threw = 0
        for _ in 0..<200 {
            let blob = GeoPackageGeometry.encode(Self.randomGeometry(&rng, z: rng.next() % 2 == 0), srsID: 4549)
            for cut in stride(from: 0, to: blob.count, by: max(1, blob.count / 16)) {
                if (try? GeoPackageGeometry.decode(Array(blob[..<cut]))) == nil { threw += 1 }
                _ = GeoPackageGeometry.envelope(of: UnsafeRawBufferPointer(start: nil, count: 0))
            }
            for _ in 0..<20 {
                var m = blob
                let i = Int(rng.next() % UInt64(m.count))
                m[i] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
                _ = try? GeoPackageGeometry.decode(m)
                m.withUnsafeBytes { _ = GeoPackageGeometry.envelope(of: $0) }
            }
        }
        #expect(threw > 0)
        // Huge counts are refused before allocating.
        var huge: [UInt8] = [0x47, 0x50, 0, 1, 0, 0, 0, 0, 1, 2, 0, 0, 0]
        huge += [0xFF, 0xFF, 0xFF, 0x7F]
        #expect(throws: GeoPackageGeometryError.self) { try GeoPackageGeometry.decode(huge) }
    }
}
