import Foundation
import SubterraGeometry
import Testing
@testable import SubterraModel

/// Random survey data with injected defects, checked against brute-force O(n²) definitions.
@Suite("Quality checks against a brute-force oracle")
struct QualityOracleTests {
    struct Seg { var a: Int; var b: Int; var da: Double?; var db: Double?; var shift: Double }

    @Test("duplicate, reversed, zero-length, start=end, depth consistency, end misses point", arguments: [11, 12, 13] as [UInt64])
    func oracle(seed: UInt64) throws {
        var rng = StoreRNG(seed: seed)
        let nPoints = 60
        // Points on a jittered grid; a few pairs coincide so zero-length segments occur.
        var pos: [Point] = (0..<nPoints).map { i in Point(500_000 + Double(i % 8) * 20 + rng.range(0, 3), 3_380_000 + Double(i / 8) * 20) }
        for k in 0..<4 { pos[nPoints - 1 - k] = pos[k] }
        var segs: [Seg] = []
        for _ in 0..<250 {
            let a = Int(rng.next() % UInt64(nPoints))
            var b = Int(rng.next() % UInt64(nPoints))
            if rng.unit() < 0.03 { b = a }
            // Depths on a coarse grid so equal-within-tolerance and different both happen.
            let da: Double? = rng.unit() < 0.1 ? nil : 1 + Double(rng.next() % 4) * 0.04
            let db: Double? = rng.unit() < 0.1 ? nil : 1 + Double(rng.next() % 4) * 0.04
            segs.append(Seg(a: a, b: b, da: da, db: db, shift: rng.unit() < 0.1 ? rng.range(0, 0.2) : 0))
            if rng.unit() < 0.05 { segs.append(Seg(a: b, b: a, da: db, db: da, shift: 0)) }
            if rng.unit() < 0.05 { segs.append(segs[segs.count - 1]) }
        }
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var pcsv = "no,layer,x,y\n"
        for (i, p) in pos.enumerated() { pcsv += "P\(i),JS,\(p.y),\(p.x)\n" } // survey order: X northing
        var scsv = "from,to,layer,d0,d1,wkt\n"
        for s in segs {
            let p = pos[s.a], q = pos[s.b]
            scsv += "P\(s.a),P\(s.b),JS,\(s.da.map { "\($0)" } ?? ""),\(s.db.map { "\($0)" } ?? ""),\"LINESTRING (\(p.x + s.shift) \(p.y), \(q.x) \(q.y))\"\n"
        }
        let pp = dir.appendingPathComponent("p.csv"), sp = dir.appendingPathComponent("s.csv")
        try Data(pcsv.utf8).write(to: pp)
        try Data(scsv.utf8).write(to: sp)
        let pm = FieldMapping(fields: ["pointNumber": .field("no"), "layer": .field("layer"), "x": .field("x"), "y": .field("y")])
        let sm = FieldMapping(fields: ["startPoint": .field("from"), "endPoint": .field("to"), "layer": .field("layer"),
                                       "startDepth": .field("d0"), "endDepth": .field("d1")])
        let tol = 0.05, dtol = 0.05
        let r = try Importer.read([
            ImportSource(path: sp.path, format: .csv(geometryColumn: "wkt"), content: .segments, mapping: sm),
            ImportSource(path: pp.path, format: .csv(geometryColumn: nil), content: .points, mapping: pm),
        ], options: ImportOptions(policy: .lenient, endTolerance: tol, depthTolerance: dtol))
        #expect(r.segments.count == segs.count)
        func flagged(_ c: QualityCheck) -> Set<Int> { Set(r.report.issues(c).map { $0.location.index! - 2 }) } // line → index

        // Brute force.
        var dup = Set<Int>(), rev = Set<Int>(), zero = Set<Int>(), same = Set<Int>(), miss = Set<Int>(), depth = Set<Int>()
        for (i, s) in segs.enumerated() {
            if s.a == s.b { same.insert(i) } else {
                if (0..<i).contains(where: { segs[$0].a == s.a && segs[$0].b == s.b }) { dup.insert(i) }
                else if (0..<i).contains(where: { segs[$0].a == s.b && segs[$0].b == s.a }) { rev.insert(i) }
            }
            let p = Point(pos[s.a].x + s.shift, pos[s.a].y)
            if p == pos[s.b] { zero.insert(i) }
            if s.shift > tol { miss.insert(i) }
            for (pt, d) in [(s.a, s.da), (s.b, s.db)] {
                guard let d else { continue }
                // The first depth recorded at this point, scanning segments in order, start before end.
                var first: Double?
                outer: for j in 0...i {
                    for (q, e) in [(segs[j].a, segs[j].da), (segs[j].b, segs[j].db)] {
                        if j == i && q == pt && e == d { break outer }
                        if q == pt, let e { first = e; break outer }
                    }
                }
                if let first, abs(first - d) > dtol { depth.insert(i) }
            }
        }
        #expect(flagged(.duplicateSegment) == dup)
        #expect(flagged(.reversedSegment) == rev)
        #expect(flagged(.startEqualsEnd) == same)
        #expect(flagged(.zeroLength) == zero)
        #expect(flagged(.endMissesPoint) == miss)
        #expect(flagged(.inconsistentPointDepth) == depth)
        #expect(!dup.isEmpty && !rev.isEmpty && !same.isEmpty && !miss.isEmpty && !depth.isEmpty)
    }
}
