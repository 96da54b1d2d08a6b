import CGEOS
import SubterraGeometry
import Testing

/// WKB/EWKB against GEOS's reader and writer: byte-identical output in every byte order, flavor
/// and SRID combination, and our reader reads whatever GEOS writes.
@Suite struct WKBRoundTripTests {
    @Test func byteIdenticalToGEOSAndReadsItBack() throws {
        let g = GEOSOracle()
        var gen = CaseGen(seed: 21)
        for k in 0..<2000 {
            let geom = gen.geometry(z: k % 2 == 0)
            let gg = try #require(g.readWKT(WKT.write(geom)))
            defer { g.free(gg) }
            g.setSRID(gg, 4549)
            let dims: Int32 = geom.hasZ ? 3 : 2
            for little in [true, false] {
                for iso in [true, false] {
                    for withSRID in iso ? [false] : [false, true] {
                        let theirs = g.writeWKB(gg, littleEndian: little, dims: dims, iso: iso, includeSRID: withSRID)
                        let mine = WKB.write(
                            geom, byteOrder: little ? .littleEndian : .bigEndian, flavor: iso ? .iso : .extended,
                            srid: withSRID ? 4549 : nil)
                        #expect(mine == theirs, "\(WKT.write(geom)) little \(little) iso \(iso) srid \(withSRID)")
                        let (read, srid) = try WKB.read(theirs)
                        #expect(read == geom)
                        #expect(srid == (withSRID ? 4549 : nil))
                        // And GEOS reads ours to the same geometry.
                        let back = try #require(g.readWKB(mine))
                        #expect(g.writeWKB(back, littleEndian: little, dims: dims, iso: iso, includeSRID: withSRID) == mine)
                        if withSRID { #expect(g.srid(back) == 4549) }
                        g.free(back)
                    }
                }
            }
        }
    }

    func error(_ bytes: [UInt8]) -> GeometryError? {
        do {
            _ = try WKB.read(bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func malformedInputGivesOffsets() {
        let pt = WKB.write(.point(Point(1, 2)))
        #expect(error([])?.description == "WKB: truncated: byte order marker needs 1 bytes, only 0 left (at offset 0)")
        #expect(error([2] + pt.dropFirst())?.description == "WKB: bad byte order marker 2 (expected 0 or 1) (at offset 0)")
        #expect(error(Array(pt.prefix(12)))?.description == "WKB: truncated: y needs 8 bytes, only 3 left (at offset 13)"
            || error(Array(pt.prefix(12)))?.description == "WKB: truncated: x needs 8 bytes, only 7 left (at offset 5)")
        #expect(error([1, 9, 0, 0, 0])?.description == "WKB: unknown geometry type code 9 (at offset 1)")
        #expect(error(pt + [0])?.description == "WKB: 1 unexpected bytes after the geometry (at offset 21)")
        // A line string claiming 2^32-1 points in a 13-byte buffer: refused, not allocated.
        #expect(error([1, 2, 0, 0, 0, 255, 255, 255, 255])?.description
            == "WKB: point count 4294967295 exceeds the 0 bytes left (at offset 5)")
        let line = WKB.write(.lineString(try! LineString([Point(0, 0), Point(1, 1)])))
        var one = line
        one[5] = 1
        #expect(error(Array(one.prefix(25)))?.description == "WKB: a line string needs at least 2 points, got 1 (at offset 5)")
    }

    @Test func truncationsAndMutationsNeverCrash() {
        var gen = CaseGen(seed: 22)
        for k in 0..<300 {
            let bytes = WKB.write(gen.geometry(z: k % 2 == 0), byteOrder: k % 3 == 0 ? .bigEndian : .littleEndian)
            for _ in 0..<10 {
                var t = Array(bytes.prefix(Int(gen.rng.next() % UInt64(bytes.count + 1))))
                if !t.isEmpty && gen.rng.next() % 2 == 0 {
                    t[Int(gen.rng.next() % UInt64(t.count))] = UInt8(truncatingIfNeeded: gen.rng.next())
                }
                do { _ = try WKB.read(t) } catch { #expect(error.offset != nil) }
            }
        }
    }
}
