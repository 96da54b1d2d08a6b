import SubterraGeometry

/// Which way round a survey table writes its two plane coordinates.
///
/// Chinese survey files (CJJ 61 tables, Gauss-Kruger grids) write **X = northing, Y = easting**
/// (e.g. X 3379503, Y 501548 near Wenling), the opposite of GIS x/y. Importers say which
/// convention a file uses and map through this type, so the swap happens in exactly one place.
///
/// ```swift
/// let p = SurveyAxes.northingEasting.point(surveyX: 3379503, surveyY: 501548)
/// // p.x == 501548 (easting), p.y == 3379503 (northing)
/// ```
public enum SurveyAxes: Hashable, Sendable, CaseIterable {
    /// X is northing, Y is easting: the Chinese survey convention.
    case northingEasting
    /// X is easting, Y is northing: the GIS convention.
    case eastingNorthing

    /// The point with `x` easting and `y` northing for a survey (X, Y) pair.
    @inlinable
    public func point(surveyX: Double, surveyY: Double, z: Double? = nil) -> Point {
        switch self {
        case .northingEasting: Point(x: surveyY, y: surveyX, z: z)
        case .eastingNorthing: Point(x: surveyX, y: surveyY, z: z)
        }
    }

    /// The survey (X, Y) pair for a point with `x` easting and `y` northing: the inverse of
    /// ``point(surveyX:surveyY:z:)``, for writing survey tables back out.
    @inlinable
    public func surveyCoordinates(of point: Point) -> (x: Double, y: Double) {
        switch self {
        case .northingEasting: (point.y, point.x)
        case .eastingNorthing: (point.x, point.y)
        }
    }
}
