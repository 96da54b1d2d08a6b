import Foundation
import PostgresNIO
import SubterraGeometry
import Testing
@testable import SubterraPostGIS

@Suite("EWKB codec")
struct EWKBTests {
    static let samples: [(ewkt: String, geometry: Geometry)] = {
        let line = try! LineString([Point(500000.25, 3380000.5, -1.75), Point(500010, 3380003, -2), Point(500020.125, 3380001, -2.5)])
        let flat = try! LineString([Point(1, 2), Point(3, 4)])
        let square = try! Polygon(rings: [[Point(0, 0), Point(10, 0), Point(10, 10), Point(0, 10), Point(0, 0)]])
        return [
            ("SRID=4549;LINESTRING Z (500000.25 3380000.5 -1.75,500010 3380003 -2,500020.125 3380001 -2.5)", .lineString(line)),
            ("SRID=4549;LINESTRING(1 2,3 4)", .lineString(flat)),
            ("SRID=4549;POINT Z (500000.1 3380000.2 12.345)", .point(Point(500000.1, 3380000.2, 12.345))),
            ("SRID=4549;POINT(7 8)", .point(Point(7, 8))),
            ("SRID=4549;MULTIPOLYGON(((0 0,10 0,10 10,0 10,0 0)))", .multiPolygon([square])),
        ]
    }()

    @Test func theTypeWordCarriesTheZAndSRIDFlags() throws {
        let bytes = EWKB.encode(Self.samples[0].geometry, srid: 4549)
        #expect(bytes[0] == 1)
        let type = UInt32(bytes[1]) | UInt32(bytes[2]) << 8 | UInt32(bytes[3]) << 16 | UInt32(bytes[4]) << 24
        #expect(type == 0xA000_0002)
        let srid = UInt32(bytes[5]) | UInt32(bytes[6]) << 8 | UInt32(bytes[7]) << 16 | UInt32(bytes[8]) << 24
        #expect(srid == 4549)
        #expect(try EWKB.decode(bytes, srid: 4549) == Self.samples[0].geometry)
    }

    @Test func aForeignSRIDIsRefused() {
        let bytes = EWKB.encode(Self.samples[3].geometry, srid: 4326)
        let error = #expect(throws: GeometryError.self) { try EWKB.decode(bytes, srid: 4549) }
        #expect(error?.message.contains("SRID 4326") == true)
    }

    @Test(.enabled(if: PG.primary != nil, PG.skipReason))
    func ourBytesEqualPostGISsAndTheyReadBack() throws {
        for (ewkt, g) in Self.samples {
            // PostGIS's ST_AsEWKB of the same geometry is byte for byte ours …
            let theirs = try PG.sql(PG.primary!, "SELECT encode(ST_AsEWKB(ST_GeomFromEWKT($1)), 'hex')", Self.binds(ewkt))
            let mine = EWKB.hex(EWKB.encode(g, srid: 4549)).lowercased()
            #expect(theirs == [[mine]], "\(ewkt)")
            // … ours read by ST_GeomFromEWKB is the same geometry (EWKT out) …
            let back = try PG.sql(PG.primary!, "SELECT (ST_AsEWKT(ST_GeomFromEWKB(decode($1, 'hex'))) = ST_AsEWKT(ST_GeomFromEWKT($2)))::text", Self.binds(mine, ewkt))
            #expect(back == [["true"]], "\(ewkt)")
            // … and PostGIS's bytes decode to the geometry, Z included.
            let bytes = try #require(theirs.first?.first ?? nil)
            #expect(try EWKB.decode(Self.unhex(bytes), srid: 4549) == g, "\(ewkt)")
        }
    }

    static func binds(_ values: String...) -> PostgresBindings {
        var b = PostgresBindings()
        for v in values { b.append(v) }
        return b
    }

    static func unhex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = s.utf8.makeIterator()
        while let h = it.next(), let l = it.next() {
            func v(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
            out.append(v(h) << 4 | v(l))
        }
        return out
    }
}
