import SubterraGeometry
import SubterraModel

/// One pipe cut by a cross-section line.
public struct CrossSectionItem: Hashable, Sendable, Codable {
    public var pipeID: Int64
    public var layer: LayerCode
    public var subtype: SubtypeCode?
    public var owner: String?
    /// Metres from the start of the cut line to the crossing.
    public var offset: Double
    public var point: PlanPoint
    /// Depth of the pipe top and bottom there, metres below ground (nil when not surveyed; the
    /// bottom also needs a section).
    public var depthTop: Double?
    public var depthBottom: Double?
    /// Elevation of the pipe top and bottom there (nil when not surveyed).
    public var topElevation: Double?
    public var bottomElevation: Double?
    /// Section notation (`"DN300"`, `"800x600"`) and outer size in metres.
    public var section: String?
    public var widthM: Double?
    public var heightM: Double?
    /// The operator's id of the pipe (``PipeSegment/sourceID``), when the source had a text id.
    public var sourceID: String? = nil
    /// The feature key when the pipe has several parts (``PipeSegment/feature``).
    public var feature: Int64? = nil
    /// What the line is: a utility line, or the bed, sleeve or casing of one
    /// (``PipeSegment/featureKind``); a cut through a sleeve shows the sleeve and its cable.
    public var featureKind: FeatureKind = .utilityLine
    /// The file the pipe was imported from (``PipeSegment/sourceFile``).
    public var sourceFile: String? = nil
}

/// Pipes crossed by a cut line, in order along it.
public struct CrossSection: Hashable, Sendable, Codable {
    /// Plan length of the cut line in the map CRS, metres.
    public var length: Double
    public var items: [CrossSectionItem]
    public var mapCRS: String
    public var mapVersion: UInt64
}

extension UtilityEngine {
    /// The cross-section along a cut line: every pipe it crosses, with the offset along the line,
    /// top and bottom depth and elevation there, section and layer, ordered by offset (then id).
    /// A pipe crossed twice appears twice; a pipe running collinearly along the cut appears at
    /// both ends of the shared stretch; two parts of one multi-part pipe meeting on the cut line
    /// are one crossing.
    ///
    /// ```swift
    /// let cut = try LineString([Point(501540, 3379500), Point(501560, 3379500)])
    /// for item in try engine.crossSection(along: cut).items {
    ///     print(item.offset, item.layer, item.depthTop ?? .nan, item.section ?? "?")
    /// }
    /// ```
    /// - Complexity: O(log n + c) for c segment candidates of the index near the line, plus
    ///   O(v·w) per pipe the line meets (v vertices against the line's w).
    public func crossSection(along cut: LineString, crs: String? = nil, filter: PipeFilter = .all)
        throws(EngineError) -> CrossSection
    {
        let q = try toMap(.lineString(cut), crs: crs, at: "crossSection")
        let snap = snapshot
        var cumulative = [0.0]
        var cutLength = 0.0
        for (a, b) in q.segments {
            cutLength += Kernel.distance(a, b)
            cumulative.append(cutLength)
        }
        var items: [CrossSectionItem] = []
        // The segment index gives the pipes that meet the cut line; only those are walked for
        // their crossings.
        for n in rows(snap, q, within: 0, filter) {
            let r = Int(n.id)
            let s = snap.record(r)
            let line = _PipeLine(s)
            var seen: [Double] = []
            for (i, (a, b)) in q.segments.enumerated() {
                for v in line.segmentStarts {
                    let p0 = line.point(v), p1 = line.point(v + 1)
                    for t in _sharedParameters(a, b, p0, p1) {
                        let offset = cumulative[i] + t * (cumulative[i + 1] - cumulative[i])
                        // A crossing at a vertex shared by two segments is found twice.
                        if seen.contains(where: { abs($0 - offset) <= 1e-9 }) { continue }
                        seen.append(offset)
                        let p = Kernel.interpolate(a, b, t: t)
                        let u = line.parameter(vertex: v, t: Kernel.project(p, ontoSegment: p0, p1).t)
                        let h = snap.height(r).isNaN ? nil : snap.height(r)
                        let top = snap.depth(row: r, at: u)
                        let topElevation = snap.topElevation(row: r, at: u)
                        items.append(CrossSectionItem(
                            pipeID: s.id, layer: s.layer, subtype: s.subtype, owner: s.owner, offset: offset,
                            point: PlanPoint(x: p.x, y: p.y), depthTop: top,
                            depthBottom: top.flatMap { d in h.map { d + $0 } }, topElevation: topElevation,
                            bottomElevation: topElevation.flatMap { e in h.map { e - $0 } },
                            section: s.section?.notation, widthM: s.outerWidthM, heightM: s.outerHeightM,
                            sourceID: s.sourceID, feature: s.feature, featureKind: s.featureKind,
                            sourceFile: s.sourceFile))
                    }
                }
            }
        }
        items.sort { ($0.offset, $0.pipeID) < ($1.offset, $1.pipeID) }
        if snap.multiPart {
            // Two parts of one pipe meeting on the cut line are one crossing (the lower id kept).
            var kept: [CrossSectionItem] = []
            for item in items {
                let key = item.feature ?? item.pipeID
                let dup = kept.reversed().prefix(while: { abs($0.offset - item.offset) <= 1e-9 })
                    .contains { ($0.feature ?? $0.pipeID) == key }
                if !dup { kept.append(item) }
            }
            items = kept
        }
        return CrossSection(length: cutLength, items: items, mapCRS: self.crs, mapVersion: snap.version)
    }
}
