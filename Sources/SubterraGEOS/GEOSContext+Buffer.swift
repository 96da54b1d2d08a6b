import CGEOS
import SubterraGeometry

/// How GEOS builds a buffer (`GEOSBufferParams_*`).
///
/// The defaults match GEOS's: round caps and joins, 8 segments per quarter circle, mitre
/// limit 5, both sides.
public struct BufferParameters: Hashable, Sendable {
    /// The shape at the ends of lines (`GEOSBufferParams_setEndCapStyle_r`).
    public enum CapStyle: Hashable, Sendable {
        case round, flat, square
    }

    /// The shape at line vertices (`GEOSBufferParams_setJoinStyle_r`).
    public enum JoinStyle: Hashable, Sendable {
        case round, mitre, bevel
    }

    public var capStyle: CapStyle
    public var joinStyle: JoinStyle
    /// How far a mitre join may reach, as a multiple of the distance, before it is bevelled.
    public var mitreLimit: Double
    /// Segments used to approximate a quarter circle; at least 1. More is closer to a true
    /// circle and slower (the result's vertex count grows linearly).
    public var quadrantSegments: Int
    /// Buffer one side of a line only: left for a positive distance, right for a negative one.
    /// GEOS ignores this for points and polygons. Caps are always flat when set.
    public var singleSided: Bool

    public init(
        capStyle: CapStyle = .round, joinStyle: JoinStyle = .round, mitreLimit: Double = 5,
        quadrantSegments: Int = 8, singleSided: Bool = false
    ) {
        self.capStyle = capStyle
        self.joinStyle = joinStyle
        self.mitreLimit = mitreLimit
        self.quadrantSegments = quadrantSegments
        self.singleSided = singleSided
    }
}

extension GEOSContext {
    /// The area within `distance` of `geometry` (`GEOSBufferWithParams_r`).
    ///
    /// A negative distance shrinks polygons (and, with ``BufferParameters/singleSided``, buffers
    /// the right side of a line). The result approximates arcs with
    /// ``BufferParameters/quadrantSegments`` chords per quarter circle, so it lies *inside* the
    /// true buffer by at most `distance * (1 - cos(π / (4 * quadrantSegments)))`: use the Swift
    /// distance kernels, not this polygon, to decide whether a point is within a distance.
    ///
    /// - Complexity: O(n log n) in the number of vertices.
    /// - Throws: ``GEOSError`` for a non-finite distance or mitre limit, fewer than one quadrant
    ///   segment, a non-finite coordinate, or a GEOS failure.
    public func buffer(
        _ geometry: Geometry, distance: Double, parameters: BufferParameters = BufferParameters()
    ) throws(GEOSError) -> Geometry {
        let op = "buffer"
        guard distance.isFinite else {
            throw GEOSError(operation: op, message: "buffer distance must be finite, got \(distance)")
        }
        guard parameters.mitreLimit.isFinite, parameters.mitreLimit > 0 else {
            throw GEOSError(operation: op, message: "mitre limit must be finite and positive, got \(parameters.mitreLimit)")
        }
        guard parameters.quadrantSegments >= 1, parameters.quadrantSegments <= 10_000 else {
            throw GEOSError(
                operation: op, message: "quadrant segments must be in 1...10000, got \(parameters.quadrantSegments)")
        }
        let g = try makeGEOS(geometry, op)
        messages.reset()
        guard let params = GEOSBufferParams_create_r(handle) else { throw failure(op) }
        defer { GEOSBufferParams_destroy_r(handle, params) }
        let cap: GEOSBufCapStyles =
            switch parameters.capStyle {
            case .round: GEOSBUF_CAP_ROUND
            case .flat: GEOSBUF_CAP_FLAT
            case .square: GEOSBUF_CAP_SQUARE
            }
        let join: GEOSBufJoinStyles =
            switch parameters.joinStyle {
            case .round: GEOSBUF_JOIN_ROUND
            case .mitre: GEOSBUF_JOIN_MITRE
            case .bevel: GEOSBUF_JOIN_BEVEL
            }
        guard GEOSBufferParams_setEndCapStyle_r(handle, params, Int32(cap.rawValue)) != 0,
            GEOSBufferParams_setJoinStyle_r(handle, params, Int32(join.rawValue)) != 0,
            GEOSBufferParams_setMitreLimit_r(handle, params, parameters.mitreLimit) != 0,
            GEOSBufferParams_setQuadrantSegments_r(handle, params, Int32(parameters.quadrantSegments)) != 0,
            GEOSBufferParams_setSingleSided_r(handle, params, parameters.singleSided ? 1 : 0) != 0
        else { throw failure(op) }
        let r = try own(GEOSBufferWithParams_r(handle, g.pointer, params, distance), op)
        return try makeGeometry(r.pointer, op)
    }
}
