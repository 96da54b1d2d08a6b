import CGEOS
import SubterraGeometry

// Conversion between Subterra `Geometry` values and GEOS handles.
//
// Empty geometries: Subterra has no empty point, line string or polygon, so GEOS's `POINT EMPTY`,
// `LINESTRING EMPTY` and `POLYGON EMPTY` come back as the empty multi geometry of the same
// dimension (`.multiPoint([])`, `.multiLineString([])`, `.multiPolygon([])`); empty multi
// geometries and collections map one to one. Z: a geometry is sent to GEOS as 3D when any of its
// points has a `z`; a point without one gets NaN there, which GEOS treats as "no Z" and which
// comes back as `nil`. Known GEOS 3.11 limit: its WKT and WKB writers take a geometry's
// dimension from its first coordinate, so a line whose *first* point has no `z` is written 2D and
// loses all its heights; give every point of a 3D geometry a height.

extension GEOSContext {
    /// Converts a Subterra geometry to a new GEOS geometry handle.
    ///
    /// - Complexity: O(n) in the number of points; coordinates are copied in one block per
    ///   sequence (`GEOSCoordSeq_copyFromBuffer_r`).
    /// - Throws: ``GEOSError`` for a non-finite coordinate (naming its path, e.g. `polygon hole 1
    ///   point 3`) or if GEOS refuses the geometry.
    func makeGEOS(_ g: Geometry, _ operation: String, path: String = "geometry") throws(GEOSError) -> _OwnedGeometry {
        switch g {
        case .point(let p):
            let seq = try makeSequence([p], operation, path: path)
            return try own(GEOSGeom_createPoint_r(handle, seq), operation)
        case .lineString(let l):
            let seq = try makeSequence(l.points, operation, path: path)
            return try own(GEOSGeom_createLineString_r(handle, seq), operation)
        case .polygon(let poly):
            return try makePolygon(poly, operation, path: path)
        case .multiPoint(let ps):
            var parts: [_OwnedGeometry] = []
            parts.reserveCapacity(ps.count)
            for (i, p) in ps.enumerated() {
                parts.append(try makeGEOS(.point(p), operation, path: "\(path) point \(i)"))
            }
            return try makeCollection(GEOS_MULTIPOINT, parts, operation)
        case .multiLineString(let ls):
            var parts: [_OwnedGeometry] = []
            parts.reserveCapacity(ls.count)
            for (i, l) in ls.enumerated() {
                parts.append(try makeGEOS(.lineString(l), operation, path: "\(path) line \(i)"))
            }
            return try makeCollection(GEOS_MULTILINESTRING, parts, operation)
        case .multiPolygon(let ps):
            var parts: [_OwnedGeometry] = []
            parts.reserveCapacity(ps.count)
            for (i, p) in ps.enumerated() {
                parts.append(try makePolygon(p, operation, path: "\(path) polygon \(i)"))
            }
            return try makeCollection(GEOS_MULTIPOLYGON, parts, operation)
        case .collection(let gs):
            var parts: [_OwnedGeometry] = []
            parts.reserveCapacity(gs.count)
            for (i, m) in gs.enumerated() {
                parts.append(try makeGEOS(m, operation, path: "\(path) member \(i)"))
            }
            return try makeCollection(GEOS_GEOMETRYCOLLECTION, parts, operation)
        }
    }

    private func makePolygon(_ poly: Polygon, _ operation: String, path: String) throws(GEOSError) -> _OwnedGeometry {
        let shell = try makeRing(poly.exterior.points, operation, path: "\(path) exterior")
        var holes: [_OwnedGeometry] = []
        holes.reserveCapacity(poly.holes.count)
        for (i, h) in poly.holes.enumerated() {
            holes.append(try makeRing(h.points, operation, path: "\(path) hole \(i)"))
        }
        // GEOS takes the rings (not the array) even on failure, so release them all first.
        var holePointers: [OpaquePointer?] = holes.map { $0.release() }
        let shellPointer = shell.release()
        messages.reset()
        let made = holePointers.withUnsafeMutableBufferPointer {
            GEOSGeom_createPolygon_r(handle, shellPointer, $0.baseAddress, UInt32($0.count))
        }
        return try own(made, operation)
    }

    private func makeRing(_ points: [Point], _ operation: String, path: String) throws(GEOSError) -> _OwnedGeometry {
        let seq = try makeSequence(points, operation, path: path)
        messages.reset()
        return try own(GEOSGeom_createLinearRing_r(handle, seq), operation)
    }

    private func makeCollection(
        _ type: GEOSGeomTypes, _ parts: [_OwnedGeometry], _ operation: String
    ) throws(GEOSError) -> _OwnedGeometry {
        messages.reset()
        if parts.isEmpty {
            return try own(GEOSGeom_createEmptyCollection_r(handle, Int32(type.rawValue)), operation)
        }
        guard parts.count <= Int(UInt32.max) else {
            throw GEOSError(operation: operation, message: "collection of \(parts.count) parts is too large for GEOS")
        }
        var pointers: [OpaquePointer?] = parts.map { $0.release() }
        let made = pointers.withUnsafeMutableBufferPointer {
            GEOSGeom_createCollection_r(handle, Int32(type.rawValue), $0.baseAddress, UInt32($0.count))
        }
        return try own(made, operation)
    }

    /// A GEOS coordinate sequence (not owned: it is always handed straight to a geometry).
    private func makeSequence(_ points: [Point], _ operation: String, path: String) throws(GEOSError) -> OpaquePointer {
        guard points.count <= Int(UInt32.max) else {
            throw GEOSError(operation: operation, message: "\(path) has \(points.count) points, too many for GEOS")
        }
        var hasZ = false
        for (i, p) in points.enumerated() {
            guard p.isFinite else {
                throw GEOSError(
                    operation: operation,
                    message: "\(path) point \(i) has a non-finite coordinate (\(p.x), \(p.y)\(p.z.map { ", \($0)" } ?? ""))")
            }
            if p.z != nil { hasZ = true }
        }
        let dims = hasZ ? 3 : 2
        var buffer = [Double](repeating: .nan, count: points.count * dims)
        for (i, p) in points.enumerated() {
            buffer[i * dims] = p.x
            buffer[i * dims + 1] = p.y
            if hasZ, let z = p.z { buffer[i * dims + 2] = z }
        }
        messages.reset()
        let seq = buffer.withUnsafeBufferPointer {
            GEOSCoordSeq_copyFromBuffer_r(handle, $0.baseAddress, UInt32(points.count), hasZ ? 1 : 0, 0)
        }
        guard let seq else { throw failure(operation) }
        return seq
    }

    // MARK: - GEOS to Subterra

    /// Converts a GEOS geometry (borrowed, not destroyed) to a Subterra geometry.
    ///
    /// - Complexity: O(n) in the number of points.
    /// - Throws: ``GEOSError`` when GEOS reports an exception or the geometry has no Subterra
    ///   equivalent (an empty point inside a multi point, a ring or line that Subterra's
    ///   validating initializers refuse); the message names the part.
    func makeGeometry(_ g: OpaquePointer, _ operation: String, path: String = "result") throws(GEOSError) -> Geometry {
        messages.reset()
        let type = GEOSGeomTypeId_r(handle, g)
        let empty = try predicate(GEOSisEmpty_r(handle, g), operation)
        switch type {
        case Int32(GEOS_POINT.rawValue):
            if empty { return .multiPoint([]) }
            return .point(try points(of: g, operation, path: path)[0])
        case Int32(GEOS_LINESTRING.rawValue), Int32(GEOS_LINEARRING.rawValue):
            if empty { return .multiLineString([]) }
            return .lineString(try lineString(g, operation, path: path))
        case Int32(GEOS_POLYGON.rawValue):
            if empty { return .multiPolygon([]) }
            return .polygon(try polygon(g, operation, path: path))
        case Int32(GEOS_MULTIPOINT.rawValue):
            return .multiPoint(try members(of: g, operation, path: path, kind: "point", in: "multi point") {
                (part, partPath) throws(GEOSError) in try points(of: part, operation, path: partPath)[0]
            })
        case Int32(GEOS_MULTILINESTRING.rawValue):
            return .multiLineString(try members(of: g, operation, path: path, kind: "line", in: "multi line string") {
                (part, partPath) throws(GEOSError) in try lineString(part, operation, path: partPath)
            })
        case Int32(GEOS_MULTIPOLYGON.rawValue):
            return .multiPolygon(try members(of: g, operation, path: path, kind: "polygon", in: "multi polygon") {
                (part, partPath) throws(GEOSError) in try polygon(part, operation, path: partPath)
            })
        case Int32(GEOS_GEOMETRYCOLLECTION.rawValue):
            var out: [Geometry] = []
            for (i, part) in try parts(of: g, operation).enumerated() {
                out.append(try makeGeometry(part, operation, path: "\(path) member \(i)"))
            }
            return .collection(out)
        default:
            throw failure(operation, fallback: "\(path) has unknown GEOS geometry type \(type)")
        }
    }

    /// The converted parts of a multi geometry, refusing empty parts (which Subterra's multi
    /// geometries cannot hold) with the part's path.
    private func members<T>(
        of g: OpaquePointer, _ operation: String, path: String, kind: String, in container: String,
        _ convert: (OpaquePointer, String) throws(GEOSError) -> T
    ) throws(GEOSError) -> [T] {
        var out: [T] = []
        for (i, part) in try parts(of: g, operation).enumerated() {
            guard try !predicate(GEOSisEmpty_r(handle, part), operation) else {
                throw GEOSError(
                    operation: operation, message: "\(path) \(kind) \(i) is empty, which a Subterra \(container) cannot hold")
            }
            out.append(try convert(part, "\(path) \(kind) \(i)"))
        }
        return out
    }

    private func parts(of g: OpaquePointer, _ operation: String) throws(GEOSError) -> [OpaquePointer] {
        let n = GEOSGetNumGeometries_r(handle, g)
        guard n >= 0 else { throw failure(operation) }
        var out: [OpaquePointer] = []
        out.reserveCapacity(Int(n))
        for i in 0..<n {
            guard let part = GEOSGetGeometryN_r(handle, g, i) else { throw failure(operation) }
            out.append(part)
        }
        return out
    }

    private func lineString(_ g: OpaquePointer, _ operation: String, path: String) throws(GEOSError) -> LineString {
        let pts = try points(of: g, operation, path: path)
        do {
            return try LineString(pts)
        } catch {
            throw GEOSError(operation: operation, message: "\(path): \(error.message)")
        }
    }

    private func ring(_ g: OpaquePointer, _ operation: String, path: String) throws(GEOSError) -> LinearRing {
        let pts = try points(of: g, operation, path: path)
        do {
            return try LinearRing(pts)
        } catch {
            throw GEOSError(operation: operation, message: "\(path): \(error.message)")
        }
    }

    private func polygon(_ g: OpaquePointer, _ operation: String, path: String) throws(GEOSError) -> Polygon {
        guard let shell = GEOSGetExteriorRing_r(handle, g) else { throw failure(operation) }
        let exterior = try ring(shell, operation, path: "\(path) exterior")
        let n = GEOSGetNumInteriorRings_r(handle, g)
        guard n >= 0 else { throw failure(operation) }
        var holes: [LinearRing] = []
        holes.reserveCapacity(Int(n))
        for i in 0..<n {
            guard let h = GEOSGetInteriorRingN_r(handle, g, i) else { throw failure(operation) }
            holes.append(try ring(h, operation, path: "\(path) hole \(i)"))
        }
        return Polygon(exterior: exterior, holes: holes)
    }

    /// The points of a point, line string or ring, copied out in one block.
    private func points(of g: OpaquePointer, _ operation: String, path: String) throws(GEOSError) -> [Point] {
        guard let seq = GEOSGeom_getCoordSeq_r(handle, g) else { throw failure(operation) }
        var size: UInt32 = 0
        guard GEOSCoordSeq_getSize_r(handle, seq, &size) != 0 else { throw failure(operation) }
        // The declared dimension, not GEOSHasZ_r, which in GEOS 3.11 looks only at the first z.
        let hasZ = GEOSGeom_getCoordinateDimension_r(handle, g) == 3
        let dims = hasZ ? 3 : 2
        var buffer = [Double](repeating: 0, count: Int(size) * dims)
        let ok = buffer.withUnsafeMutableBufferPointer {
            GEOSCoordSeq_copyToBuffer_r(handle, seq, $0.baseAddress, hasZ ? 1 : 0, 0)
        }
        guard ok != 0 else { throw failure(operation) }
        var out: [Point] = []
        out.reserveCapacity(Int(size))
        for i in 0..<Int(size) {
            let z = hasZ ? buffer[i * dims + 2] : .nan
            out.append(Point(x: buffer[i * dims], y: buffer[i * dims + 1], z: z.isNaN ? nil : z))
        }
        return out
    }
}
