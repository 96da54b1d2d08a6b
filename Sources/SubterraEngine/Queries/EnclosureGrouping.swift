import SubterraGeometry
import SubterraIndex
import SubterraModel

/// How queries and route checks report cable beds, sleeves and casings
/// (``FeatureKind/isEnclosure``).
public enum EnclosureHits: String, Hashable, Sendable, Codable, CaseIterable {
    /// An enclosure that carries a utility line of the answer (``UtilityEngine/carriedFeatures(_:row:)``)
    /// is folded into that line's hit (``PipeHit/enclosures``) instead of being a hit of its own;
    /// an enclosure carrying no line of the answer stays a hit of its own. `nearest -k` counts
    /// such groups. The default.
    case grouped
    /// Every feature is a hit of its own, lines and enclosures alike.
    case separate
}

/// A cable bed, sleeve or casing folded into the hit of the utility line it carries
/// (``PipeHit/enclosures``).
public struct HitEnclosure: Hashable, Sendable, Codable {
    /// The enclosure's segment id (its nearest part, for one of several parts).
    public var pipeID: Int64
    /// Cable bed, sleeve or casing; never ``FeatureKind/utilityLine``.
    public var kind: FeatureKind
    /// The operator's id of the enclosure (``PipeSegment/sourceID``), when it has a text one.
    public var sourceID: String?
    /// Its own exact plan distance to the query, metres (its nearest part's).
    public var distance: Double
    /// The file the enclosure was imported from (``PipeSegment/sourceFile``), when known.
    public var sourceFile: String?

    public init(pipeID: Int64, kind: FeatureKind, sourceID: String?, distance: Double, sourceFile: String? = nil) {
        self.pipeID = pipeID
        self.kind = kind
        self.sourceID = sourceID
        self.distance = distance
        self.sourceFile = sourceFile
    }
}

/// A route finding of a cable bed, sleeve or casing folded into a finding of the line it carries
/// (``RouteFinding/enclosures``).
public struct RouteEnclosure: Hashable, Sendable, Codable {
    /// The enclosure's segment id.
    public var pipeID: Int64
    /// Cable bed, sleeve or casing.
    public var kind: FeatureKind
    /// The operator's id of the enclosure, when it has a text one.
    public var sourceID: String?
    /// Its own finding's kind (horizontal or vertical), status, required and actual clearance.
    public var findingKind: RouteFinding.Kind
    public var status: RouteFinding.Status
    public var required: Double
    public var actual: Double?
    /// The file the enclosure was imported from, when known.
    public var sourceFile: String? = nil
}

/// One group of a grouped nearest search while it is assembled: a utility line (its feature
/// key, and its nearest row once known) with the enclosures carrying it, or an enclosure that
/// carries no line of the answer (`line` nil).
struct _HitGroup {
    var line: Int64?
    var lineHit: Neighbor?
    var enclosures: [Neighbor]
    /// The least distance of any member: the distance the group was met at.
    var distance: Double
}

extension UtilityEngine {
    /// `hits` (one per feature, `rows[i]` the row of `hits[i]`) with every enclosure that carries
    /// a utility line among `hits` folded into that line's ``PipeHit/enclosures`` (of every such
    /// line) and dropped as a hit of its own; ``PipeHit/groupDistance`` is the least distance of
    /// the line and its enclosures. Ordered by group distance, then segment id.
    /// - Complexity: O(h log h) plus ``carriedFeatures(_:row:)`` per enclosure hit.
    func groupEnclosures(_ snap: _Snapshot, _ hits: [PipeHit], rows: [Int]) -> [PipeHit] {
        var out = foldEnclosures(
            snap, hits, lineKey: { $0.pipe.featureKind.isEnclosure ? nil : $0.pipe.featureID },
            enclosureRow: { i, h in h.pipe.featureKind.isEnclosure ? rows[i] : nil },
            fold: { line, h in
                line.enclosures.append(Self.enclosure(h.pipe, distance: h.distance))
                line.groupDistance = min(line.groupDistance, h.distance)
            })
        for i in out.indices where out[i].enclosures.count > 1 {
            out[i].enclosures.sort { ($0.distance, $0.pipeID) < ($1.distance, $1.pipeID) }
        }
        out.sort { ($0.groupDistance, $0.pipe.id) < ($1.groupDistance, $1.pipe.id) }
        return out
    }

    static func enclosure(_ s: PipeSegment, distance: Double) -> HitEnclosure {
        HitEnclosure(
            pipeID: s.id, kind: s.featureKind, sourceID: s.sourceID, distance: distance, sourceFile: s.sourceFile)
    }

    /// The `k` nearest groups to `q` (see ``EnclosureHits/grouped``) among rows `accept` passes,
    /// at most `maxDistance` away, by group distance then segment id.
    ///
    /// Features come from the index nearest first (`want` of them, doubled until enough): a
    /// line opens its group at its distance; an enclosure joins (or opens, at its distance) the
    /// group of each line it carries that is itself an answer candidate (accepted, within
    /// `maxDistance`), or is a group of its own when it carries none. Groups thus open in order
    /// of their least member, so once `k` have opened nearer than the last feature read, no
    /// later feature can open a nearer one. Each of the `k` is then completed: its line's nearest
    /// part, and the enclosures carrying it that lie farther than the features read (found
    /// within ``enclosureTolerance`` of the line's parts).
    /// - Complexity: the feature search with doubling, plus per enclosure met
    ///   ``carriedFeatures(_:row:)`` and, per line it carries not met, one filtered nearest
    ///   search for that line.
    func groupedNearest(
        _ snap: _Snapshot, _ q: _QueryShape, k: Int, maxDistance: Double, accept: (Int) -> Bool
    ) -> [PipeHit] {
        let feature = snap.multiPart ? snap.feature : nil
        // The nearest accepted row of one feature within `maxDistance`, nil when it has none.
        var nearestOf: [Int64: Neighbor?] = [:]
        func nearestRow(of f: Int64) -> Neighbor? {
            if let known = nearestOf[f] { return known }
            let n = snap.index.nearest(
                k: 1, to: q, maxDistance: maxDistance, accept: { snap.feature($0) == f && accept($0) }
            ).first
            nearestOf[f] = n
            return n
        }
        // What each enclosure row carries: asked again for the same rows when the search doubles.
        var carriedOf: [Int: [Int64]] = [:]
        func carried(_ r: Int) -> [Int64] {
            if let known = carriedOf[r] { return known }
            let c = carriedFeatures(snap, row: r)
            carriedOf[r] = c
            return c
        }
        var want = k
        while true {
            let found = snap.index.nearest(k: want, to: q, maxDistance: maxDistance, accept: accept, feature: feature)
            let exhausted = found.count < want
            for n in found { nearestOf[snap.feature(Int(n.id))] = n }
            var groups: [_HitGroup] = []
            var groupOf: [Int64: Int] = [:]
            func join(_ line: Int64, _ n: Neighbor, isLine: Bool) {
                if let g = groupOf[line] {
                    if isLine { groups[g].lineHit = n } else { groups[g].enclosures.append(n) }
                } else {
                    groupOf[line] = groups.count
                    groups.append(_HitGroup(line: line, lineHit: isLine ? n : nil, enclosures: isLine ? [] : [n], distance: n.distance))
                }
            }
            for n in found {
                let r = Int(n.id)
                guard snap.kind(r).featureKind.isEnclosure else {
                    join(snap.feature(r), n, isLine: true)
                    continue
                }
                let hosts = carried(r).filter { nearestRow(of: $0) != nil }
                if hosts.isEmpty { groups.append(_HitGroup(line: nil, lineHit: nil, enclosures: [n], distance: n.distance)) }
                for f in hosts { join(f, n, isLine: false) }
            }
            guard exhausted || (groups.count >= k && groups[k - 1].distance < found[found.count - 1].distance) else {
                want *= 2
                continue
            }
            // Groups tied with the k-th are all open: complete them and break ties by segment id.
            let cut = groups.count >= k ? groups[k - 1].distance : .infinity
            var out: [PipeHit] = []
            for g in groups where g.distance <= cut {
                guard let f = g.line else {
                    let n = g.enclosures[0], r = Int(n.id)
                    out.append(hit(snap, r, snap.closest(row: r, to: q, distance: n.distance)))
                    continue
                }
                guard let n = g.lineHit ?? nearestRow(of: f) else { continue }
                let r = Int(n.id)
                var h = hit(snap, r, snap.closest(row: r, to: q, distance: n.distance))
                var members = Set(g.enclosures.map { snap.feature(Int($0.id)) })
                var enclosures = g.enclosures
                // Enclosures carrying the line farther than the features read.
                if !exhausted {
                    for lr in snap.rows(ofFeature: f, at: r) {
                        guard let shape = try? _QueryShape(.lineString(snap.record(lr).geometry), at: "line") else { continue }
                        for c in snap.index.within(Self.enclosureTolerance, of: shape) {
                            let cr = Int(c.id)
                            guard snap.kind(cr).featureKind.isEnclosure, accept(cr) else { continue }
                            let e = snap.feature(cr)
                            guard members.insert(e).inserted, let en = nearestRow(of: e),
                                carried(Int(en.id)).contains(f)
                            else { continue }
                            enclosures.append(en)
                        }
                    }
                }
                for e in enclosures { h.enclosures.append(Self.enclosure(snap.record(Int(e.id)), distance: e.distance)) }
                h.enclosures.sort { ($0.distance, $0.pipeID) < ($1.distance, $1.pipeID) }
                h.groupDistance = g.distance
                out.append(h)
            }
            out.sort { ($0.groupDistance, $0.pipe.id) < ($1.groupDistance, $1.pipe.id) }
            return Array(out.prefix(k))
        }
    }
}
