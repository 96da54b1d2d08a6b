import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel

/// Removes from an answer's JSON everything a scope does not show: the last step before any
/// answer leaves the service, whatever produced it.
///
/// Walks the whole document. In every array under a feature-list member (``featureLists``:
/// `hits`, `items`, `findings`, `conflicts`, `enclosures`, `unchecked`, `precautions`), an
/// element that names a segment (`pipeID`, else `id`) is dropped unless the scope admits that
/// segment, and its attributes outside ``AccessScope/fields(for:)`` are removed (the member
/// names of each ``VisibleField``; rule and reason texts unless sub-type, pressure and voltage are
/// all visible). Id lists (`pipeIDs`, `unruledPipeIDs`) keep admitted ids only, and a `count`
/// beside a `hits` list is set to that list's length. Operator-area notices (elements of `areas`
/// with an `areaID`) are dropped unless ``AccessScope/admitsArea(owner:layers:)``, and masked to
/// ``AccessScope/fields(forArea:layers:)``, except their `owner`: the operator is the notice's
/// subject, whom to consult, named as a hidden utility's notice names it. In an object with an
/// `areas` list, each `owners` notice keeps only the areas kept and visible pipes, and one left
/// with neither is dropped.
///
/// The engine already ran under the scope's filter, so in a correct service this pass drops
/// nothing; it is the second lock on the door, and the only place fields are masked.
/// - Complexity: O(document size) plus one segment lookup and admission test per element.
public struct AnswerMask {
    public let scope: AccessScope
    /// The segment with an id, from the map that answered (nil: unknown, so withheld).
    public let lookup: (Int64) -> PipeSegment?

    public init(scope: AccessScope, lookup: @escaping (Int64) -> PipeSegment?) {
        self.scope = scope
        self.lookup = lookup
    }

    /// Members whose array elements are features (or findings about one).
    public static let featureLists: Set<String> = ["hits", "items", "findings", "conflicts", "enclosures", "unchecked", "precautions"]
    /// Members holding lists of segment ids.
    public static let idLists: Set<String> = ["pipeIDs", "unruledPipeIDs"]

    /// `value` with hidden features and fields removed.
    public func apply(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let a): return .array(a.map(apply))
        case .object(let o): return .object(walk(o))
        default: return value
        }
    }

    func walk(_ o: JSONObject) -> JSONObject {
        var out = JSONObject()
        out.reserveCapacity(o.count)
        // The area notices this object keeps, masked once: its owner notices name no other area.
        // (Looked up only in an object holding some array: a feature's scalars need no lookup.)
        var maskedAreas: [JSONValue]?
        var keptAreas: Set<JSONValue>?
        let holdsArrays = o.values.contains { if case .array = $0 { true } else { false } }
        if holdsArrays, case .array(let items)? = o["areas"] {
            let kept = items.compactMap(area)
            maskedAreas = kept
            keptAreas = Set(kept.compactMap { if case .object(let a) = $0 { a["areaID"] } else { nil } })
        }
        for (k, v) in o.members {
            // Scalars are kept as they are (hidden fields were removed before the walk); only
            // arrays are filtered by their member name.
            guard case .array(let items) = v else {
                out.append(k, apply(v))
                continue
            }
            if Self.featureLists.contains(k) {
                out.append(k, .array(items.compactMap(feature)))
            } else if k == "areas", let maskedAreas {
                out.append(k, .array(maskedAreas))
            } else if k == "owners", let keptAreas {
                out.append(k, .array(items.compactMap { ownerNotice($0, keptAreas) }))
            } else if Self.idLists.contains(k) {
                out.append(k, .array(items.filter { id in id.numberValue.map { visible(Int64($0)) } ?? false }))
            } else {
                out.append(k, .array(items.map(apply)))
            }
        }
        if holdsArrays, case .array(let hits)? = out["hits"], out["count"] != nil { out["count"] = .number(Double(hits.count)) }
        return out
    }

    func visible(_ id: Int64) -> Bool { lookup(id).map(scope.admits) ?? false }

    /// One element of a feature list: nil when hidden, else masked.
    func feature(_ v: JSONValue) -> JSONValue? {
        guard case .object(let o) = v else { return apply(v) }
        let idValue = o["pipeID"] ?? o["id"]
        guard let idValue, idValue != .null else { return .object(walk(o)) }
        guard let n = idValue.numberValue, n == n.rounded(), abs(n) < 9e18, let s = lookup(Int64(n)),
            let fields = scope.visibility(of: s)
        else { return nil }
        return .object(walk(Self.mask(o, fields: fields)))
    }

    /// One element of a dig report's `owners` list: its `pipeIDs` kept to visible pipes and its
    /// `areaIDs` to the areas kept; nil when it named pipes or areas and none is left (an owner
    /// notified only for what the caller may not see is not named here).
    func ownerNotice(_ v: JSONValue, _ keptAreas: Set<JSONValue>) -> JSONValue? {
        guard case .object(var o) = v, o["pipeIDs"] != nil || o["areaIDs"] != nil else { return apply(v) }
        var named = false
        if case .array(let ids)? = o["areaIDs"] {
            named = named || !ids.isEmpty
            o["areaIDs"] = .array(ids.filter(keptAreas.contains))
        }
        if case .array(let ids)? = o["pipeIDs"] { named = named || !ids.isEmpty }
        let walked = walk(o)
        var left = false
        for k in ["pipeIDs", "areaIDs"] { if case .array(let ids)? = walked[k], !ids.isEmpty { left = true } }
        return named && !left ? nil : .object(walked)
    }

    /// One element of an `areas` list: nil when the scope may not name the area, else masked.
    /// An element without an `areaID` is no area notice and is walked as any value.
    func area(_ v: JSONValue) -> JSONValue? {
        guard case .object(let o) = v, let id = o["areaID"], id != .null else { return apply(v) }
        guard case .string(let owner)? = o["owner"] else { return nil }
        var layers: [LayerCode] = []
        if case .array(let ls)? = o["layers"] {
            for l in ls {
                guard case .string(let code) = l else { return nil }
                layers.append(LayerCode(rawValue: code))
            }
        }
        guard scope.admitsArea(owner: owner, layers: layers) else { return nil }
        return .object(walk(Self.mask(o, fields: scope.fields(forArea: owner, layers: layers).union([.owner]))))
    }

    /// `o` without the members of the field groups not in `fields`.
    public static func mask(_ o: JSONObject, fields: Set<VisibleField>) -> JSONObject {
        // Every group visible: nothing to hide (the common case of a full grant, answered
        // without building the hidden names per feature).
        if fields.count == VisibleField.allCases.count { return o }
        var hidden: Set<String> = []
        for f in VisibleField.allCases where !fields.contains(f) { hidden.formUnion(f.memberNames) }
        if !(fields.contains(.subtype) && fields.contains(.pressure) && fields.contains(.voltage)) {
            hidden.formUnion(VisibleField.classRevealingMembers)
        }
        guard !hidden.isEmpty else { return o }
        var out = JSONObject()
        for (k, v) in o.members where !hidden.contains(k) { out.append(k, v) }
        return out
    }
}

/// A utility near a dig that the caller may not see: who to call, nothing else (no geometry,
/// layer, distance, depth or id). Safety needs the call; the grant forbids the rest.
public struct HiddenUtilityNotice: Codable, Sendable, Hashable {
    public var owner: String
    public var contact: String
    public var message: String

    public init(owner: String, contact: String) {
        self.owner = owner
        self.contact = contact
        message = "a utility you are not permitted to see is near this dig: call \(contact) before digging"
    }
}

/// A dig report cut to a scope: the visible part of the engine's report and the hidden-utility
/// notices for the rest.
public struct ScopedDigReport: Sendable {
    /// The engine's report with only visible conflicts, unchecked pipes, precautions, layer and
    /// owner summaries (recomputed over the visible conflicts) and operator areas. Its `result`
    /// is the engine's, so a dig near only hidden utilities is still not clear.
    public var report: DigReport
    /// One notice per owner of hidden conflicting or unchecked utilities, by owner.
    public var hidden: [HiddenUtilityNotice]

    /// Splits `report` (computed over every pipe, `PipeFilter.all`) by `scope`.
    /// - Parameters:
    ///   - lookup: the segment of an id, from the map that answered.
    ///   - contact: whom to call about an owner.
    public init(
        _ report: DigReport, scope: AccessScope, lookup: (Int64) -> PipeSegment?, contact: (String) -> String
    ) {
        var r = report
        var hiddenOwners: Set<String> = []
        func admitted(_ id: Int64?) -> Bool { id.flatMap(lookup).map(scope.admits) ?? false }
        func ownerOf(_ id: Int64?, _ fallback: String?) -> String {
            id.flatMap(lookup)?.owner ?? fallback ?? "(unknown owner)"
        }
        var visible: [DigConflict] = []
        for c in r.conflicts {
            if admitted(c.pipeID) { visible.append(c) } else { hiddenOwners.insert(ownerOf(c.pipeID, c.owner)) }
        }
        r.conflicts = visible
        var unchecked: [UncheckedPair] = []
        for u in r.unchecked {
            if u.pipeID == nil || admitted(u.pipeID) { unchecked.append(u) } else { hiddenOwners.insert(ownerOf(u.pipeID, u.owner)) }
        }
        r.unchecked = unchecked
        r.precautions = r.precautions.filter { admitted($0.pipeID) }
        r.areas = r.areas.filter { scope.admitsArea(owner: $0.owner, layers: $0.layers) }
        let visibleAreaIDs = Set(r.areas.map(\.areaID))
        let visibleIDs = Set(visible.map(\.pipeID))
        r.layers = r.layers.compactMap { l in
            var l = l
            l.pipeIDs = l.pipeIDs.filter(visibleIDs.contains)
            guard !l.pipeIDs.isEmpty else { return nil }
            l.highestSeverity = visible.filter { $0.layer == l.layer }.map(\.severity).max() ?? l.highestSeverity
            return l
        }
        // By id, so each owner's conflicts and areas are found in O(its ids), not by a scan of
        // every conflict per owner.
        let conflictByID = Dictionary(visible.map { ($0.pipeID, $0) }, uniquingKeysWith: { first, _ in first })
        let areaByID = Dictionary(r.areas.map { ($0.areaID, $0) }, uniquingKeysWith: { first, _ in first })
        r.owners = r.owners.compactMap { o in
            var o = o
            o.pipeIDs = o.pipeIDs.filter(visibleIDs.contains)
            o.areaIDs = o.areaIDs.filter(visibleAreaIDs.contains)
            guard !o.pipeIDs.isEmpty || !o.areaIDs.isEmpty else { return nil }
            let mine = o.pipeIDs.compactMap { conflictByID[$0] }
            let ownerAreas = o.areaIDs.compactMap { areaByID[$0] }
            o.layers = o.layers.filter { l in mine.contains { $0.layer == l } || ownerAreas.contains { $0.layers.contains(l) } }
            let areaSeverity = ownerAreas.map(\.severity).max()
            o.highestSeverity = ([areaSeverity].compactMap { $0 } + mine.map(\.severity)).max() ?? o.highestSeverity
            return o
        }
        r.highestSeverity = visible.map(\.severity).max()
        self.report = r
        hidden = hiddenOwners.sorted().map { HiddenUtilityNotice(owner: $0, contact: contact($0)) }
    }
}
