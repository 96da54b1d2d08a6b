import CPROJ
import Foundation
import SubterraGeometry

/// Transforms coordinates between two coordinate systems, with x always easting or longitude
/// and y always northing or latitude (`proj_normalize_for_visualization`), whatever axis order
/// the systems' authorities declare (EPSG:4326 is lat/lon, EPSG:4549 northing/easting).
///
/// ## Thread safety
/// `Transformer` is a `Sendable` value: copy it freely and call it from any number of threads
/// or tasks at once. A `PJ_CONTEXT` and the `PJ*` made with it are one-thread objects, so each
/// (source, target) pair has one small lock-protected pool of (context, `PJ*`) pairs, shared by
/// every transformer between the same two systems and by their ``inverse``s: each call checks a
/// pair out, transforms without holding the lock, and checks it back in. The pool grows to the
/// number of threads transforming at once; a new pair is a `proj_clone` of the pool's template
/// (about 0.2 ms), not a new `proj_create_crs_to_crs` (about 100 ms, it searches the database).
///
/// ## Cost of creation
/// The first transformer between two systems costs one operation search (about 100 ms); later
/// ones, from any thread, reuse the process-wide pool (16 most recent pairs kept).
///
/// ## Errors
/// A point outside a projection's domain, or any result PROJ gives as `HUGE_VAL`/infinity/NaN,
/// throws a ``PROJError`` naming the index of the first such point; a transformer never returns
/// non-finite coordinates. PROJ's stderr logging is replaced by a per-context log function whose
/// last message is carried in the error.
///
/// ## Area of use
/// Outside its area a projection still computes numbers: a point at −170° longitude projected
/// into EPSG:4549 lands at easting ≈ 1.09e7, where every nearby-pipe query would answer "clear".
/// So by default (``AreaCheck/standard``) a transformer refuses any point whose geographic
/// position lies more than 1.5° outside the area of use recorded for its source or target system
/// (``CoordinateSystem/areaOfUse``), with a ``PROJError`` naming the point's index, the system
/// and its box: `input (-170, 28.37) is outside the area of use of EPSG:4549 (lon 118.5..121.5,
/// lat 24.43..53.33) by more than the 1.5° margin`. Systems without a recorded area (bare PROJ
/// strings, WKT without `BBOX`) are not checked. Pass `areaCheck: .none` to transform anything
/// PROJ can compute. The check costs a few comparisons per point when either system is
/// geographic; projected → projected checks one converted envelope per batch (see
/// ``init(from:to:areaCheck:)``).
public struct Transformer: Sendable, CustomStringConvertible {
    public let source: CoordinateSystem
    public let target: CoordinateSystem
    /// How points outside the systems' areas of use are refused; kept by ``inverse``.
    public let areaCheck: AreaCheck
    let pool: _PJPool
    let direction: PJ_DIRECTION
    /// The area checks for this direction and for ``inverse``; `nil` when nothing is checked.
    let areaGuard: _AreaGuard?
    let inverseAreaGuard: _AreaGuard?

    /// Creates a transformer; PROJ picks the best operation available offline
    /// (`proj_create_crs_to_crs`), per point when several apply to different areas.
    ///
    /// - Parameter areaCheck: how to treat points outside the area of use of `source` or
    ///   `target` (see ``AreaCheck``). By default, points more than 1.5° outside are refused.
    ///   When neither system is geographic, the check converts each batch's envelope to
    ///   longitude/latitude with a second PROJ operation (source → OGC:CRS84, found once per
    ///   process, about 100 ms, on the first transform) and converts every point only when the
    ///   envelope is not inside; batches of at most 80 points are converted point by point.
    /// - Throws: ``PROJError`` carrying PROJ's message when no operation links the systems, or
    ///   when the margin is negative or not finite.
    public init(from source: CoordinateSystem, to target: CoordinateSystem, areaCheck: AreaCheck = .standard) throws(PROJError) {
        if let m = areaCheck.marginDegrees, !(m.isFinite && m >= 0) {
            throw PROJError(
                operation: "create transformation \(source.name) → \(target.name)",
                message: "area check margin \(m)° must be a finite number of degrees >= 0")
        }
        self.source = source
        self.target = target
        self.areaCheck = areaCheck
        self.pool = try _PJPool.shared(source: source, target: target)
        self.direction = PJ_FWD
        self.areaGuard = _AreaGuard.make(source: source, target: target, check: areaCheck)
        self.inverseAreaGuard = _AreaGuard.make(source: target, target: source, check: areaCheck)
    }

    /// Convenience: `try Transformer(from: "EPSG:4326", to: "EPSG:4549")`.
    public init(from source: String, to target: String, areaCheck: AreaCheck = .standard) throws(PROJError) {
        try self.init(from: CoordinateSystem(source), to: CoordinateSystem(target), areaCheck: areaCheck)
    }

    private init(
        source: CoordinateSystem, target: CoordinateSystem, areaCheck: AreaCheck, pool: _PJPool, direction: PJ_DIRECTION,
        areaGuard: _AreaGuard?, inverseAreaGuard: _AreaGuard?
    ) {
        self.source = source
        self.target = target
        self.areaCheck = areaCheck
        self.pool = pool
        self.direction = direction
        self.areaGuard = areaGuard
        self.inverseAreaGuard = inverseAreaGuard
    }

    /// The transformer from ``target`` back to ``source``: the same PROJ operation run in the
    /// inverse direction, sharing this transformer's pool (no new PROJ objects), with the same
    /// ``areaCheck``.
    public var inverse: Transformer {
        Transformer(
            source: target, target: source, areaCheck: areaCheck, pool: pool, direction: direction == PJ_FWD ? PJ_INV : PJ_FWD,
            areaGuard: inverseAreaGuard, inverseAreaGuard: areaGuard)
    }

    /// This transformer with another ``AreaCheck``; shares the PROJ operation (no search).
    ///
    /// - Throws: ``PROJError`` when the margin is negative or not finite.
    public func withAreaCheck(_ check: AreaCheck) throws(PROJError) -> Transformer {
        if let m = check.marginDegrees, !(m.isFinite && m >= 0) {
            throw PROJError(operation: operation, message: "area check margin \(m)° must be a finite number of degrees >= 0")
        }
        return Transformer(
            source: source, target: target, areaCheck: check, pool: pool, direction: direction,
            areaGuard: _AreaGuard.make(source: source, target: target, check: check),
            inverseAreaGuard: _AreaGuard.make(source: target, target: source, check: check))
    }

    public var description: String { "\(source.name) → \(target.name)" }

    private var operation: String { "transform \(source.name) → \(target.name)" }

    /// Transforms one point; `z`, when present, is transformed as a height (unchanged between
    /// systems without a vertical part) and stays `nil` when absent.
    ///
    /// - Complexity: O(1), no heap allocation once the pool holds a PROJ object for this thread.
    /// - Throws: ``PROJError`` with `pointIndex` 0 for a non-finite input or a point PROJ cannot
    ///   transform (outside the projection's domain, latitude beyond ±90°), or that lies outside
    ///   the systems' areas of use (see ``areaCheck``).
    public func transform(_ point: Point) throws(PROJError) -> Point {
        var x = point.x, y = point.y, z = point.z ?? 0
        let hasZ = point.z != nil
        try withUnsafeMutablePointer(to: &x) { (px) throws(PROJError) in
            try withUnsafeMutablePointer(to: &y) { (py) throws(PROJError) in
                try withUnsafeMutablePointer(to: &z) { (pz) throws(PROJError) in
                    try _transform(count: 1, x: px, y: py, z: hasZ ? pz : nil, stride: MemoryLayout<Double>.stride)
                }
            }
        }
        return Point(x: x, y: y, z: hasZ ? z : nil)
    }

    /// Transforms many points in one PROJ call (`proj_trans_generic`). Points without `z` keep
    /// `nil`.
    ///
    /// - Complexity: O(n) with one lock round trip; when no point has a height, PROJ works
    ///   directly on the copy of the array that is returned (strided x/y, no extra buffers).
    /// - Throws: ``PROJError`` naming the index of the first point that is not finite, that lies
    ///   outside the systems' areas of use (``areaCheck``) or that PROJ cannot transform; nothing
    ///   is returned partially.
    public func transform(_ points: [Point]) throws(PROJError) -> [Point] {
        if points.contains(where: { $0.z != nil }) {
            var x = points.map(\.x), y = points.map(\.y)
            var z: [Double]? = points.map { $0.z ?? 0 }
            try transform(x: &x, y: &y, z: &z)
            var out: [Point] = []
            out.reserveCapacity(points.count)
            for i in points.indices {
                out.append(Point(x: x[i], y: y[i], z: points[i].z == nil ? nil : z?[i]))
            }
            return out
        }
        var out = points
        try out.withUnsafeMutableBufferPointer { (buffer) throws(PROJError) in
            // Point is @frozen: x and y sit at fixed offsets, so PROJ can stride over the array
            // (`offset(of:)` is nil only for computed properties; x and y are stored).
            guard let base = buffer.baseAddress, !buffer.isEmpty,
                let ox = MemoryLayout<Point>.offset(of: \Point.x), let oy = MemoryLayout<Point>.offset(of: \Point.y)
            else { return }
            let raw = UnsafeMutableRawPointer(base)
            let px = (raw + ox).assumingMemoryBound(to: Double.self)
            let py = (raw + oy).assumingMemoryBound(to: Double.self)
            try _transform(count: buffer.count, x: px, y: py, z: nil, stride: MemoryLayout<Point>.stride)
        }
        return out
    }

    /// Transforms coordinates in place in contiguous buffers, for bulk loads.
    ///
    /// - Parameters:
    ///   - x: eastings or longitudes; replaced by the results.
    ///   - y: northings or latitudes, same count as `x`.
    ///   - z: heights, same count, or `nil` for 2D.
    /// - Throws: ``PROJError`` for mismatched counts, or naming the first index whose input is not
    ///   finite, lies outside the systems' areas of use (``areaCheck``) or whose result PROJ could
    ///   not compute; the buffers then hold partial results.
    public func transform(x: inout [Double], y: inout [Double], z: inout [Double]?) throws(PROJError) {
        guard x.count == y.count, z.map({ $0.count == x.count }) ?? true else {
            throw PROJError(
                operation: operation,
                message: "coordinate buffers differ in length: x \(x.count), y \(y.count)\(z.map { ", z \($0.count)" } ?? "")")
        }
        let n = x.count
        if n == 0 { return }
        let stride = MemoryLayout<Double>.stride
        try x.withUnsafeMutableBufferPointer { (xs) throws(PROJError) in
            try y.withUnsafeMutableBufferPointer { (ys) throws(PROJError) in
                // n > 0, so every buffer has a base address.
                guard let px = xs.baseAddress, let py = ys.baseAddress else { return }
                if z != nil {
                    try z?.withUnsafeMutableBufferPointer { (zs) throws(PROJError) in
                        try _transform(count: n, x: px, y: py, z: zs.baseAddress, stride: stride)
                    }
                } else {
                    try _transform(count: n, x: px, y: py, z: nil, stride: stride)
                }
            }
        }
    }

    /// The one kernel every form goes through: checks inputs (finite, inside the areas of use),
    /// runs `proj_trans_generic` on a pooled PROJ object, and refuses any non-finite result or,
    /// for a geographic target, any result outside the areas of use, naming its index.
    ///
    /// `x`, `y` and `z` point at `count` values `stride` bytes apart, valid for the call.
    private func _transform(
        count n: Int, x: UnsafeMutablePointer<Double>, y: UnsafeMutablePointer<Double>,
        z: UnsafeMutablePointer<Double>?, stride: Int
    ) throws(PROJError) {
        @inline(__always) func at(_ p: UnsafeMutablePointer<Double>, _ i: Int) -> Double {
            UnsafeRawPointer(p).load(fromByteOffset: i * stride, as: Double.self)
        }
        @inline(__always) func finite(_ i: Int) -> Bool {
            at(x, i).isFinite && at(y, i).isFinite && (z.map { at($0, i).isFinite } ?? true)
        }
        for i in 0..<n where !finite(i) {
            throw PROJError(operation: operation, message: "input (\(at(x, i)), \(at(y, i))) is not finite", pointIndex: i)
        }
        try areaGuard?.checkInput(count: n, x: x, y: y, stride: stride)
        let handle = try pool.checkOut()
        defer { pool.checkIn(handle) }
        handle.context.resetLog()
        proj_errno_reset(handle.pj)
        let done = proj_trans_generic(
            handle.pj, direction, x, stride, n, y, stride, n, z, z == nil ? 0 : stride, z == nil ? 0 : n, nil, 0, 0)
        // PROJ marks a failed point with HUGE_VAL and carries on; never let one through.
        for i in 0..<n where !finite(i) {
            let errno = proj_errno(handle.pj)
            var e = handle.context.error(operation, errno: errno, pointIndex: i)
            if errno == 0 && handle.context.log.last == nil {
                e.message = "PROJ returned a non-finite result (\(at(x, i)), \(at(y, i)))"
            }
            throw e
        }
        guard done == n else {
            throw handle.context.error(operation, errno: proj_errno(handle.pj))
        }
        try areaGuard?.checkOutput(count: n, x: x, y: y, stride: stride)
    }

    /// Transforms 2D coordinates in place; see ``transform(x:y:z:)``.
    public func transform(x: inout [Double], y: inout [Double]) throws(PROJError) {
        var z: [Double]? = nil
        try transform(x: &x, y: &y, z: &z)
    }

    /// Transforms every point of a geometry in one bulk call, keeping its structure.
    ///
    /// - Throws: ``PROJError`` naming the first failing point's index in the geometry's points
    ///   in order (exterior ring before holes, parts in order), or when a transformed ring or
    ///   line is no longer valid for Subterra's geometry types.
    public func transform(_ geometry: Geometry) throws(PROJError) -> Geometry {
        var flat: [Point] = []
        Self.collect(geometry, into: &flat)
        let moved = try transform(flat)
        var cursor = 0
        do {
            return try Self.rebuild(geometry, from: moved, cursor: &cursor)
        } catch {
            throw PROJError(operation: operation, message: "transformed geometry is invalid: \(error.message)")
        }
    }

    private static func collect(_ g: Geometry, into out: inout [Point]) {
        switch g {
        case .point(let p): out.append(p)
        case .lineString(let l): out += l.points
        case .polygon(let p):
            out += p.exterior.points
            for h in p.holes { out += h.points }
        case .multiPoint(let ps): out += ps
        case .multiLineString(let ls): for l in ls { out += l.points }
        case .multiPolygon(let ps): for p in ps { collect(.polygon(p), into: &out) }
        case .collection(let gs): for m in gs { collect(m, into: &out) }
        }
    }

    private static func take(_ n: Int, _ pts: [Point], _ cursor: inout Int) -> [Point] {
        defer { cursor += n }
        return Array(pts[cursor..<cursor + n])
    }

    private static func rebuild(_ g: Geometry, from pts: [Point], cursor: inout Int) throws(GeometryError) -> Geometry {
        switch g {
        case .point:
            return .point(take(1, pts, &cursor)[0])
        case .lineString(let l):
            return .lineString(try LineString(take(l.points.count, pts, &cursor)))
        case .polygon(let p):
            return .polygon(try rebuild(p, pts, &cursor))
        case .multiPoint(let ps):
            return .multiPoint(take(ps.count, pts, &cursor))
        case .multiLineString(let ls):
            var out: [LineString] = []
            for l in ls { out.append(try LineString(take(l.points.count, pts, &cursor))) }
            return .multiLineString(out)
        case .multiPolygon(let ps):
            var out: [Polygon] = []
            for p in ps { out.append(try rebuild(p, pts, &cursor)) }
            return .multiPolygon(out)
        case .collection(let gs):
            var out: [Geometry] = []
            for m in gs { out.append(try rebuild(m, from: pts, cursor: &cursor)) }
            return .collection(out)
        }
    }

    private static func rebuild(_ p: Polygon, _ pts: [Point], _ cursor: inout Int) throws(GeometryError) -> Polygon {
        // A transform is a function of the point, so a closed ring stays exactly closed.
        let exterior = try LinearRing(take(p.exterior.points.count, pts, &cursor))
        var holes: [LinearRing] = []
        for h in p.holes { holes.append(try LinearRing(take(h.points.count, pts, &cursor))) }
        return Polygon(exterior: exterior, holes: holes)
    }
}

/// Per-thread-use PROJ objects for one (source, target) pair: (context, normalized `PJ*`)
/// pairs, each used by one thread at a time, cloned from a template that is never used to
/// transform. Only the free list and cloning are locked.
final class _PJPool: @unchecked Sendable {
    let source: CoordinateSystem
    let target: CoordinateSystem
    private let lock = NSLock()
    /// Read only by `proj_clone`, always under `lock`.
    private let template: _PJ
    private var free: [_PJ] = []
    /// Idle pairs kept for reuse; each holds a PROJ context (and its database handle), so more
    /// than the machine's threads would only cost memory and file descriptors.
    private let maxFree = min(16, max(4, ProcessInfo.processInfo.activeProcessorCount * 2))

    /// Builds the template: one operation search, which also proves the pairing works.
    private init(source: CoordinateSystem, target: CoordinateSystem) throws(PROJError) {
        self.source = source
        self.target = target
        let context = try _PROJContext()
        let op = "create transformation \(source.name) → \(target.name)"
        guard let raw = proj_create_crs_to_crs(context.ctx, source.definition, target.definition, nil) else {
            throw context.error(op)
        }
        let operation = _PJ(context, raw)
        guard let normalized = proj_normalize_for_visualization(context.ctx, operation.pj) else {
            throw context.error("normalize axis order of \(source.name) → \(target.name)")
        }
        template = _PJ(context, normalized)
    }

    func checkOut() throws(PROJError) -> _PJ {
        lock.lock()
        defer { lock.unlock() }
        if let h = free.popLast() { return h }
        let context = try _PROJContext()
        guard let copy = proj_clone(context.ctx, template.pj) else {
            throw context.error("clone transformation \(source.name) → \(target.name)")
        }
        return _PJ(context, copy)
    }

    func checkIn(_ h: _PJ) {
        lock.lock()
        if free.count < maxFree { free.append(h) }
        lock.unlock()
    }

    // MARK: - Process-wide cache, so creating the same transformer twice costs no search

    private struct Key: Hashable {
        var source: String
        var target: String
    }

    private static let cacheLock = NSLock()
    nonisolated(unsafe) private static var cache: [Key: _PJPool] = [:]
    nonisolated(unsafe) private static var recent: [Key] = []
    private static let cacheSize = 16

    /// The pool for this pair, made on first use. Two threads asking for a new pair at once may
    /// both search; one result is kept, which is harmless.
    static func shared(source: CoordinateSystem, target: CoordinateSystem) throws(PROJError) -> _PJPool {
        let key = Key(source: source.definition, target: target.definition)
        cacheLock.lock()
        if let pool = cache[key] {
            cacheLock.unlock()
            return pool
        }
        cacheLock.unlock()
        // The search takes ~100 ms: never hold the cache lock for it.
        let pool = try _PJPool(source: source, target: target)
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let existing = cache[key] { return existing }
        cache[key] = pool
        recent.append(key)
        if recent.count > cacheSize { cache[recent.removeFirst()] = nil }
        return pool
    }
}
