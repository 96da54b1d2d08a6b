import CGEOS
import Foundation
import SubterraGeometry

/// A geometry prepared once for many exact predicate tests (GEOS `PreparedGeometry`), safe to
/// share between any number of threads.
///
/// An unprepared `GEOSContains_r` converts both geometries to GEOS and builds the relate graph of
/// the pair on every call: O(n + m) at best for an area of n vertices. A prepared geometry keeps
/// the area converted, with indexes of its edges and a point-in-area locator, so testing a short
/// line against it costs O(m log n) after the first call.
///
/// Layout and why: GEOS's prepared geometries build their indexes lazily and are not safe for
/// concurrent use, and a GEOS geometry belongs to the context that made it. So this keeps a
/// lock-protected stack of idle slots, each a context with its own converted and prepared copy.
/// A call takes a slot (making one when all are busy), tests, and puts it back; the lock guards
/// only the stack, never GEOS work. Slots made beyond ``maxIdleSlots`` are dropped after use.
///
/// ```swift
/// let zone = try PreparedGeometry(districtPolygon)
/// let inside = try zone.contains(.lineString(pipe.geometry))   // exact, as GEOSContains_r
/// ```
public final class PreparedGeometry: @unchecked Sendable {
    /// The geometry as given.
    public let geometry: Geometry
    private let lock = NSLock()
    private var idle: [_PreparedSlot] = []
    /// Idle slots kept for reuse (about one per thread that tests at once).
    public static let maxIdleSlots = 16

    /// Prepares `geometry` (one slot is made now, so a geometry GEOS refuses fails here).
    /// - Throws: ``GEOSError`` when GEOS cannot convert or prepare it.
    public init(_ geometry: Geometry) throws(GEOSError) {
        self.geometry = geometry
        idle = [try _PreparedSlot(geometry)]
    }

    /// Whether the prepared geometry contains `other`: no point of `other` in its exterior and
    /// at least one in its interior; the same answer as ``GEOSContext/contains(_:_:)``.
    /// - Throws: ``GEOSError`` when `other` cannot be converted or GEOS fails.
    public func contains(_ other: Geometry) throws(GEOSError) -> Bool {
        try test(other, "prepared contains") { GEOSPreparedContains_r($0, $1, $2) }
    }

    /// Whether the prepared geometry and `other` share a point; as ``GEOSContext/intersects(_:_:)``.
    /// - Throws: ``GEOSError`` when `other` cannot be converted or GEOS fails.
    public func intersects(_ other: Geometry) throws(GEOSError) -> Bool {
        try test(other, "prepared intersects") { GEOSPreparedIntersects_r($0, $1, $2) }
    }

    private func test(
        _ other: Geometry, _ op: String, _ call: (GEOSContextHandle_t, OpaquePointer, OpaquePointer) -> CChar
    ) throws(GEOSError) -> Bool {
        lock.lock()
        let taken = idle.popLast()
        lock.unlock()
        let slot: _PreparedSlot
        if let taken { slot = taken } else { slot = try _PreparedSlot(geometry) }
        defer {
            lock.lock()
            if idle.count < Self.maxIdleSlots { idle.append(slot) }
            lock.unlock()
        }
        let c = slot.context
        let g = try c.makeGEOS(other, op)
        c.messages.reset()
        return try c.predicate(call(c.handle, slot.prepared, g.pointer), op)
    }
}

/// One context with its own GEOS copy of a geometry and the prepared form of it. Used by one
/// thread at a time (``PreparedGeometry`` hands it out); destroys the prepared form before the
/// geometry it refers to, and both with their context.
final class _PreparedSlot {
    let context: GEOSContext
    let base: _OwnedGeometry
    let prepared: OpaquePointer

    init(_ geometry: Geometry) throws(GEOSError) {
        let c = try GEOSContext()
        context = c
        base = try c.makeGEOS(geometry, "prepare")
        c.messages.reset()
        guard let p = GEOSPrepare_r(c.handle, base.pointer) else { throw c.failure("prepare") }
        prepared = p
    }

    deinit { GEOSPreparedGeom_destroy_r(context.handle, prepared) }
}
