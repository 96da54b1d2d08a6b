import SubterraModel

/// The figures of a whole map that the checks' search reach and fallback clearance rest on: its
/// distinct rule profiles, largest excavation clearance, stated accuracy and half width.
///
/// An engine takes them from its snapshot; an engine over a part of a map (`MappedMap`'s) is
/// given the whole map's, recorded in the snapshot file, so it reaches as far and falls back to
/// the same clearance as an engine over the whole map would.
struct _MapFigures: Sendable {
    var profiles: [PipeProfile]
    var maxExcavation: Double
    var maxAccuracy: Double
    var maxHalfWidth: Double

    init(profiles: [PipeProfile], maxExcavation: Double, maxAccuracy: Double, maxHalfWidth: Double) {
        self.profiles = profiles
        self.maxExcavation = maxExcavation
        self.maxAccuracy = maxAccuracy
        self.maxHalfWidth = maxHalfWidth
    }

    init(_ snap: _Snapshot) {
        self.init(
            profiles: snap.distinctProfiles, maxExcavation: snap.maxExcavation, maxAccuracy: snap.maxAccuracy,
            maxHalfWidth: snap.maxHalfWidth)
    }
}

/// How far the checks search around a dig or a route, from the rules and a map's figures only.
extension UtilityEngine {
    /// The figures the checks use: the whole map's when this engine is over a part of it.
    func figures(_ snap: _Snapshot) -> _MapFigures { wholeFigures ?? _MapFigures(snap) }

    /// The dig check's search radius and the clearances it rests on.
    ///
    /// - `fallback`: the largest clearance a dig can be held to, what pipes no table covers get:
    ///   the map's largest excavation clearance (kept per snapshot) for a plain
    ///   dig; for a dig laying a utility or of a rule-file work type with its own values, the
    ///   largest over the map's profiles (those values may exceed the default ones).
    /// - `uncheckedReach`: with no fallback, how far pipes without a rule are looked for (as far
    ///   as any rule could reach).
    /// - `reach`: measured to the wall, so a wide pipe's centreline may lie up to its half width
    ///   beyond the clearance and still conflict, and a pipe's stated or default accuracy widens
    ///   it: the search reaches that much farther, and as far as any precaution zone.
    ///
    /// - Complexity: O(1) for a plain dig, O(profiles) otherwise.
    func digReach(_ request: DigRequest, workType: String?, _ map: _MapFigures)
        -> (reach: Double, fallback: Double, uncheckedReach: Double)
    {
        let profiles = map.profiles
        let fallback: Double
        if let planned = request.plannedUtility {
            fallback = profiles.map { rules.horizontal(planned, $0)?.distance ?? 0 }.max() ?? 0
        } else if let workType {
            fallback = profiles.map { rules.excavation($0, workType: workType)?.distance ?? 0 }.max() ?? 0
        } else {
            fallback = map.maxExcavation
        }
        let uncheckedReach = fallback > 0 ? 0 : rules.largestExcavationClearance
        let reach = max(fallback, uncheckedReach, rules.largestPrecautionDistance)
            + max(map.maxAccuracy, rules.unknownHorizontalAccuracy) + map.maxHalfWidth
        return (reach, fallback, uncheckedReach)
    }

    /// The route check's search radius: the largest clearance the planned pipe needs from any
    /// of the map's profiles (pairs with no rule: the largest horizontal clearance the rules give, unless
    /// the pair is unconstrained), plus the margin, the planned pipe's half size and the widest
    /// pipe's half width. O(profiles).
    func routeReach(_ planned: PlannedPipe, nearMargin: Double, _ map: _MapFigures) -> Double {
        var maxRule = 0.0
        for p in map.profiles {
            let needed = rules.horizontal(planned.profile, p)?.distance
                ?? (rules.isUnconstrained(planned.profile, p, vertical: false) ? 0 : rules.largestHorizontalClearance)
            maxRule = max(maxRule, needed)
        }
        return maxRule + nearMargin + (planned.profile.diameterMM ?? 0) / 1000 / 2 + map.maxHalfWidth
    }
}
