import CGEOS
import SubterraGeometry
import Testing

/// WKT against GEOS's reader and writer, plus malformed input with exact error offsets.
@Suite struct WKTRoundTripTests {
    /// GEOS reads our text to exactly our coordinates (checked through its WKB, which is exact),
    /// and we read GEOS's text to exactly what GEOS reads from it. (GEOS's WKT writer rounds to 16
    /// significant digits, so its text is not itself a lossless round trip.)
    @Test func agreesWithGEOSReaderAndWriter() throws {
        let g = GEOSOracle()
        var gen = CaseGen(seed: 11)
        for k in 0..<3000 {
            let geom = gen.geometry(z: k % 2 == 0)
            let dims: Int32 = geom.hasZ ? 3 : 2
            let text = WKT.write(geom)
            #expect(try WKT.parse(text) == geom)
            let gg = try #require(g.readWKT(text), "GEOS could not read \(text)")
            let viaGEOS = try WKB.read(g.writeWKB(gg, littleEndian: true, dims: dims, iso: false, includeSRID: false))
            #expect(viaGEOS.geometry == geom, "\(text)")
            let theirText = g.writeWKT(gg, dims: dims)
            g.free(gg)
            let gg2 = try #require(g.readWKT(theirText))
            let reference = try WKB.read(g.writeWKB(gg2, littleEndian: true, dims: dims, iso: false, includeSRID: false))
            g.free(gg2)
            #expect(try WKT.parse(theirText) == reference.geometry, "\(theirText)")
        }
    }

    @Test func readsVariants() throws {
        #expect(try WKT.parse("POINT(1 2)") == .point(Point(1, 2)))
        #expect(try WKT.parse("  point z ( 1 2 3 ) ") == .point(Point(1, 2, 3)))
        #expect(try WKT.parse("POINT (1 2 3)") == .point(Point(1, 2, 3)))
        #expect(try WKT.parse("POINT M (1 2 7)") == .point(Point(1, 2)))
        #expect(try WKT.parse("POINT ZM (1 2 3 7)") == .point(Point(1, 2, 3)))
        #expect(try WKT.parse("MULTIPOINT (1 2, 3 4)") == .multiPoint([Point(1, 2), Point(3, 4)]))
        #expect(try WKT.parse("MULTIPOINT ((1 2), (3 4))") == .multiPoint([Point(1, 2), Point(3, 4)]))
        #expect(try WKT.parse("MULTIPOLYGON EMPTY") == .multiPolygon([]))
        #expect(try WKT.parse("GEOMETRYCOLLECTION EMPTY") == .collection([]))
        #expect(try WKT.parse("POINT (1e3 -2.5E-2)") == .point(Point(1000, -0.025)))
        let (geom, srid) = try WKT.parseWithSRID("SRID=4549;POINT (3150000.125 40500000.5)")
        #expect(srid == 4549)
        #expect(geom == .point(Point(3_150_000.125, 40_500_000.5)))
        #expect(WKT.write(geom, srid: 4549) == "SRID=4549;POINT (3150000.125 40500000.5)")
        #expect(WKT.write(.point(Point(1, 2, 3))) == "POINT Z (1 2 3)")
        #expect(WKT.write(.multiLineString([])) == "MULTILINESTRING EMPTY")
    }

    func error(_ s: String) -> GeometryError? {
        do {
            _ = try WKT.parse(s)
            return nil
        } catch {
            return error
        }
    }

    @Test func malformedInputGivesOffsets() {
        #expect(error("")?.description == "WKT: empty input, expected a geometry (at offset 0)")
        #expect(error("POINT (1)")?.description == "WKT: expected a number (at offset 8)")
        #expect(error("POINT (1 2")?.description == "WKT: expected ')' but the text ended (at offset 10)")
        #expect(error("CIRCLE (1 2)")?.description == "WKT: unknown geometry type 'CIRCLE' (at offset 0)")
        #expect(error("LINESTRING (1 2)")?.description == "WKT: a line string needs at least 2 points, got 1 (at offset 11)")
        #expect(error("POLYGON ((0 0, 1 0, 1 1, 0 1))")?.description
            == "WKT: polygon ring 0: a linear ring must be closed (first point equal to last) (at offset 9)")
        #expect(error("POINT (1 2) x")?.description == "WKT: unexpected text after the geometry (at offset 12)")
        #expect(error("LINESTRING (0 0, 1 1 1)")?.description == "WKT: coordinate has 3 values, expected 2 (at offset 17)")
        #expect(error("POINT EMPTY")?.message.contains("not supported") == true)
        #expect(error("POINT (1e999 0)")?.description == "WKT: number out of range (at offset 7)")
    }

    @Test func truncationsAndMutationsNeverCrash() {
        var gen = CaseGen(seed: 12)
        for k in 0..<300 {
            let text = Array(WKT.write(gen.geometry(z: k % 3 == 0)).utf8)
            for _ in 0..<10 {
                var t = Array(text.prefix(Int(gen.rng.next() % UInt64(text.count + 1))))
                if !t.isEmpty && gen.rng.next() % 2 == 0 {
                    t[Int(gen.rng.next() % UInt64(t.count))] = UInt8(truncatingIfNeeded: gen.rng.next())
                }
                do {
                    _ = try WKT.parse(String(decoding: t, as: UTF8.self))
                } catch {
                    #expect(error.offset != nil)
                }
            }
        }
    }
}
