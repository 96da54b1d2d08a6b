import CPROJ
import Foundation

/// Refuses points whose geographic position lies outside the area of use of a transformer's
/// source or target system (widened by the ``AreaCheck`` margin), before a projection silently
/// computes coordinates that mean nothing.
///
/// Where the geographic position comes from decides the cost:
/// - geographic source (degrees): the input itself, a few comparisons per point;
/// - geographic target (degrees): the output, checked after the transform, same cost;
/// - projected → projected: a second PROJ operation (source → OGC:CRS84). For more than
///   ``envelopeThreshold`` points only the input's envelope is converted (its boundary sampled
///   at 80 points, widened by 1 % against curvature between samples); only when that box is not
///   inside every area is each point converted. A point's verdict never depends on its batch:
///   the envelope only ever accepts batches whose every point would pass alone.
///
/// Immutable apart from the lazily made source → CRS84 pool, which is guarded by `lock`.
final class _AreaGuard: @unchecked Sendable {
    enum Position { case input, output, viaGeographic }

    struct Check {
        var region: _AreaRegion
        var system: CoordinateSystem
        var area: AreaOfUse
    }

    /// Batches larger than this convert their envelope first (80 sampled points) rather than every
    /// point.
    static let envelopeThreshold = 80

    let checks: [Check]
    let position: Position
    let margin: Double
    /// The system the input coordinates are in.
    let source: CoordinateSystem
    let operation: String
    private let lock = NSLock()
    private var geographic: _PJPool?

    private init(checks: [Check], position: Position, margin: Double, source: CoordinateSystem, operation: String) {
        self.checks = checks
        self.position = position
        self.margin = margin
        self.source = source
        self.operation = operation
    }

    /// The guard for `source → target`, or `nil` when there is nothing to check: the check is
    /// off, or neither system records an area smaller than the globe. Makes no PROJ objects.
    static func make(source: CoordinateSystem, target: CoordinateSystem, check: AreaCheck) -> _AreaGuard? {
        guard let margin = check.marginDegrees else { return nil }
        var checks: [Check] = []
        for system in [source, target] {
            guard let area = system.areaOfUse, !checks.contains(where: { $0.area == area }) else { continue }
            let region = _AreaRegion(area, margin: margin)
            if !region.isWholeGlobe { checks.append(Check(region: region, system: system, area: area)) }
        }
        if checks.isEmpty { return nil }
        let position: Position =
            source.isGeographicDegrees ? .input : target.isGeographicDegrees ? .output : .viaGeographic
        return _AreaGuard(
            checks: checks, position: position, margin: margin, source: source,
            operation: "transform \(source.name) → \(target.name)")
    }

    // MARK: - Checks, called by Transformer._transform on strided coordinates

    /// Checks the input before the transform (geographic or projected source).
    func checkInput(count n: Int, x: UnsafeMutablePointer<Double>, y: UnsafeMutablePointer<Double>, stride: Int) throws(PROJError) {
        switch position {
        case .input:
            for i in 0..<n {
                let lon = Self.at(x, i, stride), lat = Self.at(y, i, stride)
                if let c = firstFailing(lon, lat) { throw refusal(i, input: (lon, lat), geographic: nil, c) }
            }
        case .viaGeographic:
            try checkViaGeographic(count: n, x: x, y: y, stride: stride)
        case .output:
            break
        }
    }

    /// Checks the output after the transform (geographic target).
    func checkOutput(count n: Int, x: UnsafeMutablePointer<Double>, y: UnsafeMutablePointer<Double>, stride: Int) throws(PROJError) {
        guard position == .output else { return }
        for i in 0..<n {
            let lon = Self.at(x, i, stride), lat = Self.at(y, i, stride)
            if let c = firstFailing(lon, lat) { throw refusal(i, input: nil, geographic: (lon, lat), c) }
        }
    }

    @inline(__always)
    private static func at(_ p: UnsafeMutablePointer<Double>, _ i: Int, _ stride: Int) -> Double {
        UnsafeRawPointer(p).load(fromByteOffset: i * stride, as: Double.self)
    }

    @inline(__always)
    private func firstFailing(_ lon: Double, _ lat: Double) -> Check? {
        for c in checks where !c.region.contains(lon, lat) { return c }
        return nil
    }

    private func checkViaGeographic(
        count n: Int, x: UnsafeMutablePointer<Double>, y: UnsafeMutablePointer<Double>, stride: Int
    ) throws(PROJError) {
        let pool = try geographicPool()
        let handle = try pool.checkOut()
        defer { pool.checkIn(handle) }
        if n > Self.envelopeThreshold, envelopeIsInside(handle, count: n, x: x, y: y, stride: stride) { return }
        proj_errno_reset(handle.pj)
        if n == 1 {
            // The single-point path stays free of heap allocation.
            var lon = x.pointee, lat = y.pointee
            _ = proj_trans_generic(handle.pj, PJ_FWD, &lon, 0, 1, &lat, 0, 1, nil, 0, 0, nil, 0, 0)
            try judge(0, input: (x.pointee, y.pointee), lon: lon, lat: lat)
            return
        }
        var lon = [Double](repeating: 0, count: n), lat = [Double](repeating: 0, count: n)
        for i in 0..<n {
            lon[i] = Self.at(x, i, stride)
            lat[i] = Self.at(y, i, stride)
        }
        let size = MemoryLayout<Double>.stride
        lon.withUnsafeMutableBufferPointer { lons in
            lat.withUnsafeMutableBufferPointer { lats in
                _ = proj_trans_generic(
                    handle.pj, PJ_FWD, lons.baseAddress, size, n, lats.baseAddress, size, n, nil, 0, 0, nil, 0, 0)
            }
        }
        for i in 0..<n { try judge(i, input: (Self.at(x, i, stride), Self.at(y, i, stride)), lon: lon[i], lat: lat[i]) }
    }

    /// Refuses point `i` when its converted position is not finite or lies outside an area.
    @inline(__always)
    private func judge(_ i: Int, input: (Double, Double), lon: Double, lat: Double) throws(PROJError) {
        guard lon.isFinite && lat.isFinite else {
            throw PROJError(
                operation: operation,
                message: "input (\(_AreaRegion.format(input.0)), \(_AreaRegion.format(input.1))) has no position on the globe in \(source.label) (PROJ cannot convert it to longitude/latitude), so it lies outside the area of use of \(checks[0].system.label) (\(checks[0].area))",
                pointIndex: i)
        }
        if let c = firstFailing(lon, lat) { throw refusal(i, input: input, geographic: (lon, lat), c) }
    }

    /// Whether the geographic image of the input's envelope lies inside every area: the
    /// boundary sampled at 20 points per edge (a projection maps a rectangle's interior inside
    /// its boundary's image), widened by 1 % + 1e-7° against curvature between samples.
    private func envelopeIsInside(
        _ handle: _PJ, count n: Int, x: UnsafeMutablePointer<Double>, y: UnsafeMutablePointer<Double>, stride: Int
    ) -> Bool {
        var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
        for i in 0..<n {
            let px = Self.at(x, i, stride), py = Self.at(y, i, stride)
            minX = Swift.min(minX, px)
            maxX = Swift.max(maxX, px)
            minY = Swift.min(minY, py)
            maxY = Swift.max(maxY, py)
        }
        let perEdge = 20
        var sx: [Double] = [], sy: [Double] = []
        sx.reserveCapacity(4 * perEdge)
        sy.reserveCapacity(4 * perEdge)
        let dx = maxX - minX, dy = maxY - minY
        for k in 0..<perEdge {
            let t = Double(k) / Double(perEdge)
            sx += [minX + t * dx, maxX, maxX - t * dx, minX]
            sy += [minY, minY + t * dy, maxY, maxY - t * dy]
        }
        let m = sx.count, size = MemoryLayout<Double>.stride
        proj_errno_reset(handle.pj)
        sx.withUnsafeMutableBufferPointer { xs in
            sy.withUnsafeMutableBufferPointer { ys in
                _ = proj_trans_generic(handle.pj, PJ_FWD, xs.baseAddress, size, m, ys.baseAddress, size, m, nil, 0, 0, nil, 0, 0)
            }
        }
        var minLon = Double.infinity, minLat = Double.infinity, maxLon = -Double.infinity, maxLat = -Double.infinity
        for k in 0..<m {
            guard sx[k].isFinite && sy[k].isFinite else { return false }
            minLon = Swift.min(minLon, sx[k])
            maxLon = Swift.max(maxLon, sx[k])
            minLat = Swift.min(minLat, sy[k])
            maxLat = Swift.max(maxLat, sy[k])
        }
        // A box across the antimeridian or around a pole: let each point decide.
        guard maxLon - minLon <= 180 else { return false }
        let padLon = 0.01 * (maxLon - minLon) + 1e-7, padLat = 0.01 * (maxLat - minLat) + 1e-7
        return checks.allSatisfy {
            $0.region.contains(minLon: minLon - padLon, minLat: minLat - padLat, maxLon: maxLon + padLon, maxLat: maxLat + padLat)
        }
    }

    /// The pooled source → OGC:CRS84 operation (lon/lat order), made on first use: one operation
    /// search (about 100 ms), then shared process-wide like any transformer's pool.
    private func geographicPool() throws(PROJError) -> _PJPool {
        lock.lock()
        let made = geographic
        lock.unlock()
        if let made { return made }
        let pool = try _PJPool.shared(source: source, target: CoordinateSystem("OGC:CRS84"))
        lock.lock()
        geographic = pool
        lock.unlock()
        return pool
    }

    /// `input (-170, 28.37) is outside the area of use of EPSG:4549 (lon 118.5..121.5, lat
    /// 24.43..53.33) by more than the 1.5° margin …`: one line, what and which point.
    private func refusal(_ i: Int, input: (Double, Double)?, geographic: (Double, Double)?, _ c: Check) -> PROJError {
        let f = _AreaRegion.format
        var what: String
        switch (input, geographic) {
        case let (input?, geo?): what = "input (\(f(input.0)), \(f(input.1))), at lon \(f(geo.0)) lat \(f(geo.1)),"
        case let (input?, nil): what = "input (\(f(input.0)), \(f(input.1)))"
        case let (nil, geo?): what = "input, at lon \(f(geo.0)) lat \(f(geo.1)),"
        case (nil, nil): what = "input"
        }
        what += " is outside the area of use of \(c.system.label) (\(c.area))"
        if margin > 0 { what += " by more than the \(f(margin))° margin" }
        what += ": the projection cannot represent it faithfully; check the CRS and the axis order (x = easting or longitude)"
        return PROJError(operation: operation, message: what, pointIndex: i)
    }
}
