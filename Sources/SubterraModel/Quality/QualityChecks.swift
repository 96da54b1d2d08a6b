import Foundation
import SubterraGeometry

/// Checks that need more than one record: duplicate and reversed segments, zero length, start
/// equal to end, points whose depth differs between the segments that meet them, and segment
/// ends whose top elevation + depth disagrees with the point's ground elevation.
enum QualityChecks {
    /// - Parameters:
    ///   - segments: the segments kept so far, in source order.
    ///   - sources: where each segment came from (same order), for source locations.
    /// - Complexity: O(n) expected, with hashing on point-number pairs.
    ///   - ground: ground elevation of each point that has one; an end whose top elevation plus
    ///     depth misses it by more than the depth tolerance is reported (CJJ 61: ground = top + depth).
    static func crossRecord(
        segments: [PipeSegment], sources: [SegmentLocator], ground: [PointNumber: Double], options: ImportOptions,
        shortPipes: Set<Int64> = []
    ) -> [QualityIssue] {
        var out: [QualityIssue] = []
        var byEnds: [PairKey: Int] = [:]
        byEnds.reserveCapacity(segments.count)
        // Point number → (depth, segment index, which end) of the first segment seen there.
        var depthAt: [PointNumber: (Double, Int, ImportField)] = [:]
        for (i, s) in segments.enumerated() {
            let d = sources[i]
            if s.startPoint == s.endPoint {
                // A pipe shorter than the snapping tolerance (`shortPipes`, by id) was reported
                // as a warning when its ends were resolved.
                if !shortPipes.contains(s.id) {
                    out.append(QualityIssue(.startEqualsEnd, .error, at: d.at(.endPoint), endsMessage(s, options)))
                }
            } else {
                for (reversed, j) in [(false, byEnds[PairKey(s.startPoint, s.endPoint)]),
                                      (true, byEnds[PairKey(s.endPoint, s.startPoint)])] {
                    guard let j else { continue }
                    out.append(pairIssue(s, at: d, other: segments[j], otherAt: sources[j].location, reversed: reversed))
                    break
                }
                // Every pair is remembered (first occurrence), flagged or not, so a later copy of a
                // reversed segment is reported as the duplicate it is.
                if byEnds[PairKey(s.startPoint, s.endPoint)] == nil { byEnds[PairKey(s.startPoint, s.endPoint)] = i }
            }
            if let z = zeroLengthIssue(s, at: d) { out.append(z) }
            for (p, depth, top, f) in [(s.startPoint, s.startDepth, s.startTopElevation, ImportField.startDepth),
                                         (s.endPoint, s.endDepth, s.endTopElevation, .endDepth)] {
                guard let depth else { continue }
                if let top, let g = ground[p], let issue = groundIssue(p, top: top, depth: depth, ground: g, at: d.at(f), options) {
                    out.append(issue)
                }
                if let (first, j, fj) = depthAt[p] {
                    if let issue = depthIssue(p, depth: depth, first: first, on: segments[j].id, at: sources[j].location,
                                              end: fj, here: d.at(f), options) {
                        out.append(issue)
                    }
                } else {
                    depthAt[p] = (depth, i, f)
                }
            }
        }
        return out
    }

    /// The issue of `s` (from `d`) joining the same two points as the earlier `other` (record
    /// `otherAt`), the same way or reversed: a duplicate or reversed segment when no attribute
    /// differs, else a coincident trace.
    static func pairIssue(_ s: PipeSegment, at d: SegmentLocator, other: PipeSegment, otherAt: RecordLocation,
                          reversed: Bool) -> QualityIssue {
        let apart = endsApart(s, other, reversed: reversed)
        let how = reversed
            ? "joins \(s.startPoint)→\(s.endPoint), the reverse of \(describe(other.id, otherAt))"
            : "joins \(s.startPoint)→\(s.endPoint) like \(describe(other.id, otherAt))"
        let differs = differences(s, other)
        if differs.isEmpty {
            return QualityIssue(
                reversed ? .reversedSegment : .duplicateSegment, .error, at: d.at(.startPoint),
                "segment \(s.id) \(how) (\(apart)); same layer, sub-type, section, material, burial, owner, pressure, voltage, counts and source id: a duplicate record")
        }
        return QualityIssue(
            .coincidentTrace, .warning, at: d.at(.startPoint),
            "segment \(s.id) \(how) (\(apart)) but differs in \(differs.joined(separator: ", ")): \(coincidence(s, other)), kept")
    }

    /// The zero-length issue of `s`, nil when it has a length.
    static func zeroLengthIssue(_ s: PipeSegment, at d: SegmentLocator) -> QualityIssue? {
        let len = s.length
        guard !(len > 0) else { return nil }
        let p = s.start
        return QualityIssue(
            .zeroLength, .error, at: d.at(.startPoint),
            String(format: "segment %lld has zero length: all %d vertices at (%.3f, %.3f)", s.id, s.geometry.points.count, p.x, p.y))
    }

    /// The issue of an end at point `p` whose top elevation plus depth misses the point's ground
    /// elevation by more than the tolerance, nil when it does not.
    static func groundIssue(_ p: PointNumber, top: Double, depth: Double, ground g: Double, at: RecordLocation,
                            _ options: ImportOptions) -> QualityIssue? {
        guard abs(top + depth - g) > options.depthTolerance else { return nil }
        return QualityIssue(
            .inconsistentPointDepth, .error, at: at,
            String(format: "point %@: top elevation %.3f + depth %.3f = %.3f m, but the point's ground elevation is %.3f m; tolerance %.3f m",
                   p.rawValue, top, depth, top + depth, g, options.depthTolerance))
    }

    /// The issue of a depth at point `p` (field `here`) that differs by more than the tolerance
    /// from the `first` depth seen there, on segment `id` at `at`, end field `end`; nil when not.
    static func depthIssue(_ p: PointNumber, depth: Double, first: Double, on id: Int64, at: RecordLocation,
                           end: ImportField, here: RecordLocation, _ options: ImportOptions) -> QualityIssue? {
        guard abs(first - depth) > options.depthTolerance else { return nil }
        return QualityIssue(
            .inconsistentPointDepth, .error, at: here,
            String(format: "point %@: depth %.3f m here but %.3f m on %@ (%@); tolerance %.3f m",
                   p.rawValue, depth, first, describe(id, at), end.rawValue, options.depthTolerance))
    }

    /// Why a segment's two ends carry one point number, with the measured distance between them.
    static func endsMessage(_ s: PipeSegment, _ options: ImportOptions) -> String {
        let gap = RecordBuilder.planarDistance(s.start, s.end)
        let tol = options.endTolerance
        if gap <= tol {
            return "start and end both resolve to point \(s.startPoint): ends \(lengthText(gap)) apart, within the \(lengthText(tol)) snapping tolerance"
        }
        return "start and end both name point \(s.startPoint), but the ends are \(lengthText(gap)) apart (snapping tolerance \(lengthText(tol)))"
    }

    /// How far the ends of `a` lie from the matching ends of `b`: `"ends 0 mm and 4 mm apart"`.
    static func endsApart(_ a: PipeSegment, _ b: PipeSegment, reversed: Bool) -> String {
        let (bs, be) = reversed ? (b.end, b.start) : (b.start, b.end)
        return "ends \(lengthText(RecordBuilder.planarDistance(a.start, bs))) and \(lengthText(RecordBuilder.planarDistance(a.end, be))) apart"
    }

    /// The attributes in which two segments on one trace differ, by name; empty for a copy.
    /// Ids and geometry are not compared: a delivered copy gets its own id and may be digitised
    /// again a few millimetres off.
    static func differences(_ a: PipeSegment, _ b: PipeSegment) -> [String] {
        var out: [String] = []
        if a.layer != b.layer { out.append("layer (\(a.layer) vs \(b.layer))") }
        if a.featureKind != b.featureKind { out.append("kind (\(a.featureKind.words) vs \(b.featureKind.words))") }
        if a.subtype != b.subtype { out.append("sub-type") }
        if a.section != b.section { out.append("section") }
        if a.material != b.material {
            out.append("material (\(a.material?.rawValue ?? "none") vs \(b.material?.rawValue ?? "none"))")
        }
        if a.burial != b.burial { out.append("burial") }
        if a.owner != b.owner { out.append("owner") }
        if a.gasPressureMPa != b.gasPressureMPa { out.append("pressure") }
        if a.voltageKV != b.voltageKV { out.append("voltage") }
        if a.cableCount != b.cableCount || a.ductHoles != b.ductHoles { out.append("counts") }
        // The source's own identity: two cables of one owner in one trench are two features.
        if let x = a.sourceID, let y = b.sourceID, x != y { out.append("source id (\(x) vs \(y))") }
        return out
    }

    /// What a coincident trace is, by the two lines' kinds: `"the cable bed of segment 11"` when
    /// `s` encloses the utility line `other`, `"the line in sleeve segment 12"` the other way round,
    /// else `"a coincident trace of another feature"`.
    static func coincidence(_ s: PipeSegment, _ other: PipeSegment) -> String {
        switch (s.featureKind.isEnclosure, other.featureKind.isEnclosure) {
        case (true, false): return "the \(s.featureKind.words) of segment \(other.id)"
        case (false, true): return "the line in \(other.featureKind.words) segment \(other.id)"
        case (true, true): return "a \(s.featureKind.words) beside \(other.featureKind.words) segment \(other.id)"
        case (false, false): return "a coincident trace of another feature"
        }
    }

    /// A length for messages: millimetres below a metre (`"9 mm"`, `"0.4 mm"`), else metres.
    static func lengthText(_ d: Double) -> String {
        if d >= 1 { return String(format: "%.3f m", d) }
        let mm = d * 1000
        return mm < 1 && mm > 0 ? String(format: "%.1f mm", mm) : String(format: "%.0f mm", mm)
    }

    static func describe(_ id: Int64, _ location: RecordLocation) -> String {
        var l = location
        l.field = nil
        return "segment \(id) at \(l)"
    }

    struct PairKey: Hashable {
        var a: PointNumber
        var b: PointNumber
        init(_ a: PointNumber, _ b: PointNumber) { self.a = a; self.b = b }
    }
}
