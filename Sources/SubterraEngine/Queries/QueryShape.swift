import SubterraGeometry
import SubterraPROJ

/// A query geometry taken apart for the exact kernels: points, lines (whole, for the segment
/// index, and as line segments, for the per-row figures) and polygons, in the map CRS, validated
/// (finite coordinates, no empty geometry, and every point inside the map's area of use when one
/// is given).
struct _QueryShape: Sendable {
    var points: [Point] = []
    var lines: [LineString] = []
    /// The segments of `lines`, line after line.
    var segments: [(Point, Point)] = []
    var polygons: [Polygon] = []
    /// The bounds of each of `polygons`.
    var polygonEnvelopes: [Envelope] = []
    var envelope = Envelope.empty

    /// - Parameter area: when given, a point outside it is refused with one line naming the
    ///   point (`"line point 2 (1e+155, 3140200) is outside the area of use of EPSG:4549: x …"`).
    init(_ g: Geometry, at location: String, area: AreaBounds? = nil) throws(EngineError) {
        try reset(g, at: location, area: area)
    }

    /// An empty shape, to be filled by `reset` (a reused buffer).
    init() {}

    /// Makes this the shape of `g` (as `init(_:at:area:)`), keeping the arrays' storage: a
    /// caller that takes shape after shape allocates only when one is bigger than all before.
    mutating func reset(_ g: Geometry, at location: String, area: AreaBounds? = nil) throws(EngineError) {
        points.removeAll(keepingCapacity: true)
        lines.removeAll(keepingCapacity: true)
        segments.removeAll(keepingCapacity: true)
        polygons.removeAll(keepingCapacity: true)
        polygonEnvelopes.removeAll(keepingCapacity: true)
        envelope = .empty
        try add(g, at: location, area: area)
        guard !envelope.isEmpty else { throw EngineError("the geometry is empty", at: location) }
    }

    private mutating func add(_ g: Geometry, at location: String, area: AreaBounds?) throws(EngineError) {
        func check<C: RandomAccessCollection<Point>>(_ pts: C, _ what: String) throws(EngineError) where C.Index == Int {
            if let i = pts.firstIndex(where: { !$0.isFinite }) {
                throw EngineError("\(what) point \(i) has a non-finite coordinate", at: location)
            }
            if let area, let i = pts.firstIndex(where: { !area.contains(x: $0.x, y: $0.y) }) {
                let name = what == "point" ? "point" : "\(what) point \(i)"
                throw EngineError(area.refusal(name, x: pts[i].x, y: pts[i].y), at: location)
            }
            for p in pts { envelope.expand(toInclude: p) }
        }
        switch g {
        case .point(let p):
            try check(CollectionOfOne(p), "point")
            points.append(p)
        case .multiPoint(let ps):
            try check(ps, "multipoint")
            points += ps
        case .lineString(let l):
            try check(l.points, "line")
            lines.append(l)
            for i in 1..<l.points.count { segments.append((l.points[i - 1], l.points[i])) }
        case .multiLineString(let ls):
            for l in ls { try add(.lineString(l), at: location, area: area) }
        case .polygon(let p):
            try check(p.exterior.points, "exterior ring")
            for (k, hole) in p.holes.enumerated() { try check(hole.points, "hole \(k)") }
            polygons.append(p)
            polygonEnvelopes.append(p.envelope)
        case .multiPolygon(let ps):
            for p in ps { try add(.polygon(p), at: location, area: area) }
        case .collection(let gs):
            for g in gs { try add(g, at: location, area: area) }
        }
    }
}

/// The exact closest approach of a query to one pipe.
struct _Closest {
    /// Exact plan distance, metres (0 when they touch or overlap).
    var distance: Double
    /// The point on the pipe where it is reached.
    var point: Point
    /// Fraction of the pipe's plan length at `point`.
    var parameter: Double
    /// Depth of the pipe top there (nil when not surveyed).
    var depth: Double?
}

extension _Snapshot {
    /// Exact distance from the query to row `r`, the closest point on the pipe and its depth:
    /// the per-row figures of an answer, computed for the rows a query answers with (the search
    /// itself measures with the segment index, `_PipeIndex`).
    ///
    /// Where several points are equally close (a pipe crossing or inside the query area: the
    /// distance is 0 along a stretch) the **shallowest** is reported, since that is where a dig
    /// meets the pipe first; depth is linear along a pipe, so the shallowest point of a stretch is
    /// one of its ends, which are the candidates tried. O(pipe vertices × query vertices).
    func closest(row r: Int, to q: _QueryShape) -> _Closest {
        var buffers = _ClosestBuffers()
        return closest(row: r, to: q, buffers: &buffers)
    }

    /// `closest(row:to:)`, with `buffers` as its working storage (cleared before each use), so
    /// a caller measuring many rows allocates nothing once they are big enough.
    func closest(row r: Int, to q: _QueryShape, buffers: inout _ClosestBuffers) -> _Closest {
        var best = _Closest(distance: .infinity, point: Point(0, 0), parameter: 0, depth: nil)
        let (table, local) = locate(r)
        let ends = depths(row: r, table, local)
        let line = _PipeLine(points: Self.points(table, local), storage: &buffers.along)
        defer { line.release(into: &buffers.along) }
        var parameters = buffers.parameters
        buffers.parameters = []
        defer { buffers.parameters = parameters }
        func offer(_ d: Double, _ p: Point, _ u: Double) {
            if d < best.distance {
                best = _Closest(distance: d, point: p, parameter: u, depth: ends.at(u))
            } else if d == best.distance {
                let dep = ends.at(u)
                if let dep, dep < (best.depth ?? .infinity) {
                    best = _Closest(distance: d, point: p, parameter: u, depth: dep)
                }
            }
        }
        // A line string has at least two vertices, so every row has at least one sub-segment.
        for v in line.segmentStarts {
            let a = line.point(v)
            let b = line.point(v + 1)
            for p in q.points {
                let pr = Kernel.project(p, ontoSegment: a, b)
                offer(pr.distance, pr.point, line.parameter(vertex: v, t: pr.t))
            }
            for (c, d) in q.segments {
                let sd = Kernel.segmentDistance(a, b, c, d)
                if sd.distance == 0 {
                    // A crossing or an overlap: try both ends of a shared stretch for the shallowest.
                    parameters.removeAll(keepingCapacity: true)
                    _sharedParameters(a, b, c, d, into: &parameters)
                    for t in parameters {
                        offer(0, Kernel.interpolate(a, b, t: t), line.parameter(vertex: v, t: t))
                    }
                }
                offer(sd.distance, sd.first, line.parameter(vertex: v, t: sd.t1))
            }
            // Polygons and ring vertices are read in place (copying a polygon retains its rings).
            q.polygons.withUnsafeBufferPointer { polys in
                for k in polys.indices {
                    parameters.removeAll(keepingCapacity: true)
                    _insideParameters(a, b, polys[k], envelope: q.polygonEnvelopes[k], into: &parameters)
                    if !parameters.isEmpty {
                        for t in parameters { offer(0, Kernel.interpolate(a, b, t: t), line.parameter(vertex: v, t: t)) }
                    } else {
                        func ring(_ rp: UnsafeBufferPointer<Point>) {
                            for i in 1..<rp.count {
                                let sd = Kernel.segmentDistance(a, b, rp[i - 1], rp[i])
                                offer(sd.distance, sd.first, line.parameter(vertex: v, t: sd.t1))
                            }
                        }
                        polys[k].exterior.points.withUnsafeBufferPointer(ring)
                        for h in polys[k].holes.indices { polys[k].holes[h].points.withUnsafeBufferPointer(ring) }
                    }
                }
            }
        }
        return best
    }

    /// `closest(row:to:)` for a row the segment index answered with: the closest point and
    /// depth from the row, the exact `distance` the index measured.
    func closest(row r: Int, to q: _QueryShape, distance: Double) -> _Closest {
        var c = closest(row: r, to: q)
        c.distance = distance
        return c
    }

    /// `closest(row:to:distance:)` with working storage (see `closest(row:to:buffers:)`).
    func closest(row r: Int, to q: _QueryShape, distance: Double, buffers: inout _ClosestBuffers) -> _Closest {
        var c = closest(row: r, to: q, buffers: &buffers)
        c.distance = distance
        return c
    }
}

/// Working storage of `_Snapshot.closest(row:to:buffers:)`: along-segment parameters met on one
/// sub-segment, and the row's along-pipe lengths.
struct _ClosestBuffers: Sendable {
    var parameters: [Double] = []
    var along: [Double] = []
}

/// Local parameters on `a → b` of the points it shares with `c → d` (one for a crossing, two for
/// a collinear overlap, none when apart).
func _sharedParameters(_ a: Point, _ b: Point, _ c: Point, _ d: Point) -> [Double] {
    var out: [Double] = []
    _sharedParameters(a, b, c, d, into: &out)
    return out
}

/// `_sharedParameters`, appended to `out`.
func _sharedParameters(_ a: Point, _ b: Point, _ c: Point, _ d: Point, into out: inout [Double]) {
    switch Kernel.intersection(a, b, c, d) {
    case .none: return
    case .point(let p): out.append(Kernel.project(p, ontoSegment: a, b).t)
    case .overlap(let f, let t):
        out.append(Kernel.project(f, ontoSegment: a, b).t)
        out.append(Kernel.project(t, ontoSegment: a, b).t)
    }
}

/// Local parameters on `a → b` that bound the parts of the segment inside or on `poly`: its ends
/// when not exterior, and every point where it meets a ring edge. Empty exactly when the segment
/// and the polygon share no point (decided by the exact kernels: a segment that meets no ring
/// edge lies wholly inside or wholly outside, which its first end tells).
func _insideParameters(_ a: Point, _ b: Point, _ poly: Polygon) -> [Double] {
    var out: [Double] = []
    _insideParameters(a, b, poly, into: &out)
    return out
}

/// `_insideParameters`, appended to `out`.
func _insideParameters(_ a: Point, _ b: Point, _ poly: Polygon, into out: inout [Double]) {
    _insideParameters(a, b, poly, envelope: poly.envelope, into: &out)
}

/// `_insideParameters`, with the polygon's bounds `e` given.
func _insideParameters(_ a: Point, _ b: Point, _ poly: Polygon, envelope e: Envelope, into out: inout [Double]) {
    if Kernel.locate(a, in: poly) != .exterior { out.append(0) }
    if Kernel.locate(b, in: poly) != .exterior { out.append(1) }
    // The segment's bounds against the polygon's (`Envelope.intersects`, closed boxes).
    guard min(a.x, b.x) <= e.maxX, max(a.x, b.x) >= e.minX, min(a.y, b.y) <= e.maxY, max(a.y, b.y) >= e.minY
    else { return }
    func ring(_ rp: UnsafeBufferPointer<Point>) {
        for i in 1..<rp.count { _sharedParameters(a, b, rp[i - 1], rp[i], into: &out) }
    }
    poly.exterior.points.withUnsafeBufferPointer(ring)
    for h in poly.holes.indices { poly.holes[h].points.withUnsafeBufferPointer(ring) }
}
