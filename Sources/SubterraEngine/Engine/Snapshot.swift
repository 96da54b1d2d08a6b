import SubterraGeometry
import SubterraIndex
import SubterraModel

/// One immutable state of the engine: the map, a segment table and a packed R-tree over it.
///
/// Readers take a reference under the engine's lock and then work lock-free on it, so a query
/// always sees one consistent map even while an edit publishes the next snapshot. The table is
/// struct-of-arrays: coordinates of all pipes in two flat arrays (`xs`, `ys`) with a start offset
/// per row, so the exact-distance loops walk contiguous memory and never touch the records.
final class _Snapshot: Sendable {
    let version: UInt64
    let network: UtilityNetwork
    /// Records in row order; the index stores row numbers.
    let records: [PipeSegment]
    let profiles: [PipeProfile]
    let rowOfID: [Int64: Int]
    /// Row `r` has vertices `vertexStart[r] ..< vertexStart[r + 1]`.
    let vertexStart: [Int]
    let xs: [Double]
    let ys: [Double]
    /// Plan length from the row's first vertex to this vertex.
    let along: [Double]
    /// Depth of the pipe top at the start and end (NaN when not surveyed); linear in between.
    let depth0: [Double]
    let depth1: [Double]
    /// Top elevation at the start and end (NaN when not surveyed).
    let top0: [Double]
    let top1: [Double]
    /// Outer height and width in metres (NaN / 0 when no section was surveyed).
    let height: [Double]
    let width: [Double]
    /// Horizontal positional accuracy in metres (0 when not stated).
    let accuracy: [Double]
    let index: PackedRTree
    let bounds: Envelope
    let maxAccuracy: Double
    let maxHalfWidth: Double
    /// The distinct rule profiles present (far fewer than pipes), for per-query rule maxima.
    let distinctProfiles: [PipeProfile]
    /// Layers present.
    let layers: Set<LayerCode>
    /// The largest excavation clearance of any pipe: what unruled pipes get, and a dig's search radius.
    let maxExcavation: Double

    /// Builds the table and bulk-loads the tree. O(n log n) in segments.
    init(network: UtilityNetwork, version: UInt64, rules: ClearanceRules) throws(EngineError) {
        self.version = version
        self.network = network
        let segs = network.segments
        records = segs
        profiles = segs.map(PipeProfile.init)
        var rowOfID: [Int64: Int] = [:]
        rowOfID.reserveCapacity(segs.count)
        var vertexStart = [0]
        var xs: [Double] = [], ys: [Double] = [], along: [Double] = []
        var depth0: [Double] = [], depth1: [Double] = [], top0: [Double] = [], top1: [Double] = []
        var height: [Double] = [], width: [Double] = [], accuracy: [Double] = []
        var boxes: [Box] = []
        var bounds = Envelope.empty
        var maxAccuracy = 0.0, maxHalfWidth = 0.0
        for (r, s) in segs.enumerated() {
            rowOfID[s.id] = r
            var walked = 0.0
            let pts = s.geometry.points
            for (i, p) in pts.enumerated() {
                if i > 0 { walked += Kernel.distance(pts[i - 1], p) }
                xs.append(p.x)
                ys.append(p.y)
                along.append(walked)
            }
            vertexStart.append(xs.count)
            depth0.append(network.depthOfTop(segmentID: s.id, atParameter: 0) ?? .nan)
            depth1.append(network.depthOfTop(segmentID: s.id, atParameter: 1) ?? .nan)
            top0.append(s.topElevation(atParameter: 0) ?? .nan)
            top1.append(s.topElevation(atParameter: 1) ?? .nan)
            height.append(s.outerHeightM ?? .nan)
            width.append(s.outerWidthM ?? 0)
            let acc = s.accuracy?.horizontalM ?? 0
            accuracy.append(acc)
            maxAccuracy = max(maxAccuracy, acc)
            maxHalfWidth = max(maxHalfWidth, (s.outerWidthM ?? 0) / 2)
            let e = s.geometry.envelope
            bounds = bounds.union(e)
            boxes.append(Box(minX: e.minX, minY: e.minY, maxX: e.maxX, maxY: e.maxY))
        }
        do {
            index = try PackedRTree(boxes: boxes)
        } catch {
            throw EngineError("cannot index the segments: \(error)", at: "snapshot \(version)")
        }
        self.rowOfID = rowOfID
        self.vertexStart = vertexStart
        self.xs = xs
        self.ys = ys
        self.along = along
        self.depth0 = depth0
        self.depth1 = depth1
        self.top0 = top0
        self.top1 = top1
        self.height = height
        self.width = width
        self.accuracy = accuracy
        self.bounds = bounds
        self.maxAccuracy = maxAccuracy
        self.maxHalfWidth = maxHalfWidth
        distinctProfiles = Array(Set(profiles))
        layers = Set(segs.map(\.layer))
        maxExcavation = distinctProfiles.map { rules.excavation($0)?.distance ?? 0 }.max() ?? 0
    }

    var count: Int { records.count }

    @inline(__always)
    func point(_ v: Int) -> Point { Point(xs[v], ys[v]) }

    /// Total plan length of row `r`.
    @inline(__always)
    func length(_ r: Int) -> Double { along[vertexStart[r + 1] - 1] }

    /// Fraction of plan length (0...1) at local parameter `t` of the row's sub-segment starting
    /// at vertex `v`.
    @inline(__always)
    func parameter(row r: Int, vertex v: Int, t: Double) -> Double {
        let total = length(r)
        guard total > 0 else { return 0 }
        let here = along[v] + t * (along[v + 1] - along[v])
        return min(max(here / total, 0), 1)
    }

    /// Depth of the pipe top at fraction `u`; `nil` when not surveyed.
    func depth(row r: Int, at u: Double) -> Double? {
        let a = depth0[r], b = depth1[r]
        guard !a.isNaN, !b.isNaN else { return nil }
        return a + (b - a) * u
    }

    /// Top elevation at fraction `u`; falls back to ground − depth where the ground is known.
    func topElevation(row r: Int, at u: Double) -> Double? {
        let a = top0[r], b = top1[r]
        if !a.isNaN, !b.isNaN { return a + (b - a) * u }
        return nil
    }

    /// Rows whose box intersects `e` expanded by `margin`, in tree order.
    func candidates(near e: Envelope, margin: Double, _ body: (Int) -> Void) {
        guard !e.isEmpty, count > 0 else { return }
        let q = Box(minX: e.minX - margin, minY: e.minY - margin, maxX: e.maxX + margin, maxY: e.maxY + margin)
        index.forEachIntersecting(q) { id in
            body(Int(id))
            return .continue
        }
    }
}
