import Foundation
import SubterraGeometry

/// Checks that need more than one record: duplicate and reversed segments, zero length, start
/// equal to end, points whose depth differs between the segments that meet them, and segment
/// ends whose top elevation + depth disagrees with the point's ground elevation.
enum QualityChecks {
    /// - Parameters:
    ///   - segments: the segments kept so far, in source order.
    ///   - drafts: the draft each segment came from (same order), for source locations.
    /// - Complexity: O(n) expected, with hashing on point-number pairs.
    ///   - ground: ground elevation of each point that has one; an end whose top elevation plus
    ///     depth misses it by more than the depth tolerance is reported (CJJ 61: ground = top + depth).
    static func crossRecord(
        segments: [PipeSegment], drafts: [SegmentDraft], ground: [PointNumber: Double], options: ImportOptions
    ) -> [QualityIssue] {
        var out: [QualityIssue] = []
        var byEnds: [PairKey: Int] = [:]
        byEnds.reserveCapacity(segments.count)
        // Point number → (depth, segment index, which end) of the first segment seen there.
        var depthAt: [PointNumber: (Double, Int, ImportField)] = [:]
        for (i, s) in segments.enumerated() {
            let d = drafts[i]
            if s.startPoint == s.endPoint {
                out.append(QualityIssue(.startEqualsEnd, .error, at: d.at(.endPoint),
                                        "start and end are the same point \(s.startPoint)"))
            } else {
                if let j = byEnds[PairKey(s.startPoint, s.endPoint)] {
                    out.append(QualityIssue(.duplicateSegment, .error, at: d.at(.startPoint),
                                            "segment \(s.id) joins \(s.startPoint)→\(s.endPoint) like \(describe(segments[j], drafts[j]))"))
                } else if let j = byEnds[PairKey(s.endPoint, s.startPoint)] {
                    out.append(QualityIssue(.reversedSegment, .error, at: d.at(.startPoint),
                                            "segment \(s.id) joins \(s.startPoint)→\(s.endPoint), the reverse of \(describe(segments[j], drafts[j]))"))
                }
                // Every pair is remembered (first occurrence), flagged or not, so a later copy of a
                // reversed segment is reported as the duplicate it is.
                if byEnds[PairKey(s.startPoint, s.endPoint)] == nil { byEnds[PairKey(s.startPoint, s.endPoint)] = i }
            }
            let len = s.length
            if !(len > 0) {
                out.append(QualityIssue(.zeroLength, .error, at: d.at(.startPoint), "segment \(s.id) has zero length"))
            }
            for (p, depth, top, f) in [(s.startPoint, s.startDepth, s.startTopElevation, ImportField.startDepth),
                                         (s.endPoint, s.endDepth, s.endTopElevation, .endDepth)] {
                guard let depth else { continue }
                if let top, let g = ground[p], abs(top + depth - g) > options.depthTolerance {
                    out.append(QualityIssue(
                        .inconsistentPointDepth, .error, at: d.at(f),
                        String(format: "point %@: top elevation %.3f + depth %.3f = %.3f m, but the point's ground elevation is %.3f m; tolerance %.3f m",
                               p.rawValue, top, depth, top + depth, g, options.depthTolerance)))
                }
                if let (first, j, fj) = depthAt[p] {
                    if abs(first - depth) > options.depthTolerance {
                        out.append(QualityIssue(
                            .inconsistentPointDepth, .error, at: d.at(f),
                            String(format: "point %@: depth %.3f m here but %.3f m on %@ (%@); tolerance %.3f m",
                                   p.rawValue, depth, first, describe(segments[j], drafts[j]), fj.rawValue,
                                   options.depthTolerance)))
                    }
                } else {
                    depthAt[p] = (depth, i, f)
                }
            }
        }
        return out
    }

    static func describe(_ s: PipeSegment, _ d: SegmentDraft) -> String {
        var l = d.location
        l.field = nil
        return "segment \(s.id) at \(l)"
    }

    struct PairKey: Hashable {
        var a: PointNumber
        var b: PointNumber
        init(_ a: PointNumber, _ b: PointNumber) { self.a = a; self.b = b }
    }
}
