import PeerBoost
import PeerGEOS

/// One spatial index under comparison, answering every workload on the same segments.
///
/// Answers go into caller-owned arrays that are cleared, not reallocated, so a warmed-up query
/// loop measures the index rather than Swift array growth. Implementations are used from one
/// thread at a time (GEOS contexts are per-thread objects).
public protocol IndexPeer: AnyObject {
    /// Short stable name used in reports ("subterra", "boost", "geos", "brute").
    var name: String { get }
    /// Bytes the index itself says it holds, when it can say; nil otherwise.
    var reportedBytes: Int? { get }
    /// Segments that exactly intersect the closed box.
    func window(_ q: (Double, Double, Double, Double), into out: inout [UInt32])
    /// The `k` segments nearest to the point by exact distance, nearest first.
    func nearest(x: Double, y: Double, k: Int, ids: inout [UInt32], distances: inout [Double])
    /// Segments within exact distance `r` of the point.
    func within(x: Double, y: Double, r: Double, into out: inout [UInt32])
    /// Segments within exact distance `r` of the polygon (inside counts as 0).
    func polygonWithin(ring: [Double], r: Double, into out: inout [UInt32])
}

/// Another peer under another name: the packed Subterra index as the reference that the dynamic
/// one is measured against ("packed"; a name without the "subterra" prefix, so ratios put the
/// dynamic index over it).
public final class RenamedPeer: IndexPeer {
    public let name: String
    let peer: any IndexPeer
    public init(_ peer: any IndexPeer, name: String) {
        self.peer = peer
        self.name = name
    }
    public var reportedBytes: Int? { peer.reportedBytes }
    public func window(_ q: (Double, Double, Double, Double), into out: inout [UInt32]) { peer.window(q, into: &out) }
    public func nearest(x: Double, y: Double, k: Int, ids: inout [UInt32], distances: inout [Double]) {
        peer.nearest(x: x, y: y, k: k, ids: &ids, distances: &distances)
    }
    public func within(x: Double, y: Double, r: Double, into out: inout [UInt32]) { peer.within(x: x, y: y, r: r, into: &out) }
    public func polygonWithin(ring: [Double], r: Double, into out: inout [UInt32]) {
        peer.polygonWithin(ring: ring, r: r, into: &out)
    }
}

/// A growable C buffer reused across queries by the C peers.
struct Scratch: ~Copyable {
    var ids: UnsafeMutablePointer<UInt32>
    var distances: UnsafeMutablePointer<Double>
    var capacity: Int
    init() {
        capacity = 1024
        ids = .allocate(capacity: capacity)
        distances = .allocate(capacity: capacity)
    }
    mutating func grow(to n: Int) {
        ids.deallocate()
        distances.deallocate()
        capacity = max(n, 2 * capacity)
        ids = .allocate(capacity: capacity)
        distances = .allocate(capacity: capacity)
    }
    deinit {
        ids.deallocate()
        distances.deallocate()
    }
}

/// The entry points of one C peer library. Boost and GEOS expose the same shapes (see
/// PeerBoost.h / PeerGEOS.h): queries write ids into a caller buffer and return the count found.
public struct CIndexAPI: Sendable {
    public typealias Handle = OpaquePointer?
    public typealias Ids = UnsafeMutablePointer<UInt32>?
    var queryBox: @convention(c) (Handle, Double, Double, Double, Double, Ids, Int) -> Int
    var nearest: @convention(c) (Handle, Double, Double, Int, Ids, UnsafeMutablePointer<Double>?, Int) -> Int
    var within: @convention(c) (Handle, Double, Double, Double, Ids, Int) -> Int
    var polygonWithin: @convention(c) (Handle, UnsafePointer<Double>?, Int, Double, Ids, Int) -> Int
    var free: @convention(c) (Handle) -> Void
    var bytes: (@convention(c) (Handle) -> Int)?

    static let boost = CIndexAPI(
        queryBox: boost_index_query_box, nearest: boost_index_nearest, within: boost_index_within,
        polygonWithin: boost_index_polygon_within, free: boost_index_free, bytes: boost_index_bytes)
    /// GEOS reports no index size; the heap delta around the build is measured instead.
    static let geos = CIndexAPI(
        queryBox: geos_index_query_box, nearest: geos_index_nearest, within: geos_index_within,
        polygonWithin: geos_index_polygon_within, free: geos_index_free, bytes: nil)
}

/// A peer implemented in C or C++ behind `CIndexAPI`: Boost.Geometry's
/// `rtree<pair<segment, id>, …>` (packed with node size 8, or built by `linear<16>` insertion;
/// exact predicates on the segment) or GEOS's `STRtree` (refined with GEOS's own exact
/// predicates). Each query uses the form measured fastest among the documented alternatives
/// (Benchmarks/README.md, "Peers at their best").
public final class CIndexPeer: IndexPeer {
    public let name: String
    let handle: OpaquePointer
    let api: CIndexAPI
    var scratch = Scratch()

    init(name: String, api: CIndexAPI, handle: OpaquePointer?) {
        // The builders return NULL only when out of memory; nothing sensible to measure then.
        guard let handle else { fatalError("\(name): index build failed (out of memory)") }
        self.name = name
        self.api = api
        self.handle = handle
    }
    deinit { api.free(handle) }

    /// Boost.Geometry R-tree: bulk-load (packing constructor) when `packed`, else one `insert`
    /// per item. Named "boost" either way so build_packed and build_dynamic charts line up.
    public static func boost(_ data: SegmentSet, packed: Bool) -> CIndexPeer {
        CIndexPeer(name: "boost", api: .boost, handle: data.coordinates.withUnsafeBufferPointer { buf in
            packed ? boost_index_build(buf.baseAddress, data.count) : boost_index_build_insert(buf.baseAddress, data.count)
        })
    }

    /// GEOS STRtree (node capacity 10) over one LineString per segment.
    public static func geos(_ data: SegmentSet) -> CIndexPeer {
        CIndexPeer(name: "geos", api: .geos, handle: data.coordinates.withUnsafeBufferPointer {
            geos_index_build($0.baseAddress, data.count)
        })
    }

    public var reportedBytes: Int? { api.bytes.map { $0(handle) } }

    @inline(__always)
    func collect(_ out: inout [UInt32], _ call: (UnsafeMutablePointer<UInt32>, Int) -> Int) {
        var n = call(scratch.ids, scratch.capacity)
        if n > scratch.capacity {
            scratch.grow(to: n)
            n = call(scratch.ids, scratch.capacity)
        }
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: UnsafeBufferPointer(start: scratch.ids, count: n))
    }

    public func window(_ q: (Double, Double, Double, Double), into out: inout [UInt32]) {
        collect(&out) { api.queryBox(handle, q.0, q.1, q.2, q.3, $0, $1) }
    }

    public func nearest(x: Double, y: Double, k: Int, ids: inout [UInt32], distances: inout [Double]) {
        if k > scratch.capacity { scratch.grow(to: k) }
        let n = api.nearest(handle, x, y, k, scratch.ids, scratch.distances, scratch.capacity)
        ids.removeAll(keepingCapacity: true)
        distances.removeAll(keepingCapacity: true)
        ids.append(contentsOf: UnsafeBufferPointer(start: scratch.ids, count: min(n, scratch.capacity)))
        distances.append(contentsOf: UnsafeBufferPointer(start: scratch.distances, count: min(n, scratch.capacity)))
    }

    public func within(x: Double, y: Double, r: Double, into out: inout [UInt32]) {
        collect(&out) { api.within(handle, x, y, r, $0, $1) }
    }

    public func polygonWithin(ring: [Double], r: Double, into out: inout [UInt32]) {
        ring.withUnsafeBufferPointer { rb in
            collect(&out) { api.polygonWithin(handle, rb.baseAddress, rb.count / 2, r, $0, $1) }
        }
    }
}

/// The oracle: a linear scan with the exact kernels in `Exact.swift`. Used by the correctness
/// gate on a sample of queries, never timed.
public final class BruteForcePeer: IndexPeer {
    public let name = "brute"
    let data: SegmentSet
    public init(_ data: SegmentSet) { self.data = data }
    public var reportedBytes: Int? { nil }

    public func window(_ q: (Double, Double, Double, Double), into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        for i in 0..<data.count {
            let s = data.segment(i)
            if segmentIntersectsBox(s.x0, s.y0, s.x1, s.y1, q.0, q.1, q.2, q.3) { out.append(UInt32(i)) }
        }
    }

    public func nearest(x: Double, y: Double, k: Int, ids: inout [UInt32], distances: inout [Double]) {
        var all = [(Double, UInt32)]()
        all.reserveCapacity(data.count)
        for i in 0..<data.count {
            let s = data.segment(i)
            all.append((pointSegmentDistance(x, y, s.x0, s.y0, s.x1, s.y1), UInt32(i)))
        }
        all.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        ids = all.prefix(k).map(\.1)
        distances = all.prefix(k).map(\.0)
    }

    public func within(x: Double, y: Double, r: Double, into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        for i in 0..<data.count {
            let s = data.segment(i)
            if pointSegmentDistance(x, y, s.x0, s.y0, s.x1, s.y1) <= r { out.append(UInt32(i)) }
        }
    }

    public func polygonWithin(ring: [Double], r: Double, into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        for i in 0..<data.count {
            let s = data.segment(i)
            if segmentPolygonDistance(s.x0, s.y0, s.x1, s.y1, ring: ring) <= r { out.append(UInt32(i)) }
        }
    }
}
