import SubterraGeometry
import SubterraModel

/// The attributes of a point that few points differ in (layer, category, kind, owner, road,
/// status, valve status, customers): a map has a few thousand distinct combinations, kept once
/// per point table.
struct _PointKind: _CodedCombination {
    var layer: LayerCode
    var category: PointCategory
    var kind: PointKind
    var owner: String?
    var road: String?
    var status: RecordStatus?
    var valveStatus: ValveStatus?
    var connection: ServiceConnection?

    init(_ p: FeaturePoint) {
        layer = p.layer
        category = p.category
        kind = p.kind
        owner = p.owner
        road = p.road
        status = p.status
        valveStatus = p.valveStatus
        connection = p.connection
    }

    /// Whether `other` is this combination with every text spelt in the same bytes (`==`
    /// compares texts up to Unicode canonical equivalence).
    func isIdentical(to other: _PointKind) -> Bool {
        let same = _sameBytes(_:_:) as (String?, String?) -> Bool
        return self == other && same(layer.rawValue, other.layer.rawValue) && same(kind.rawValue, other.kind.rawValue)
            && same(owner, other.owner) && same(road, other.road) && same(status?.rawValue, other.status?.rawValue)
    }
}

/// Which optional numbers a point has (`_PointTable.flags`).
struct _PointFlags: OptionSet, Sendable {
    let rawValue: UInt8
    static let z = _PointFlags(rawValue: 1 << 0)
    static let ground = _PointFlags(rawValue: 1 << 1)
    static let depth = _PointFlags(rawValue: 1 << 2)
}

/// The map's survey points, column by column, immutable once built: what `_Table` is to the
/// segments.
///
/// No point is kept as a `FeaturePoint` (a dozen strings and optionals, about 170 B inline plus
/// a hashed entry around it). Point `i` (a dense index, 0-based, in map order) is:
/// - **its number**: UTF-8 in `numbers` (one buffer for all), found from a number through
///   `slots`, an open-addressing hash table (linear probing, at most half full) that stores
///   only `index + 1` (0: empty), 4 bytes a slot; the key is compared against the stored
///   bytes, so the table holds no `String`;
/// - **its position**: `x`, `y`, and `z` (an empty column when no point has a height);
/// - **its ground elevation and depth**: `Double` columns, with presence bits in `flags`;
/// - **the attributes few points differ in**: one 4-byte code into `kinds`.
///
/// About 50 B per point in all. `point(_:)` rebuilds a `FeaturePoint` equal (`==`, and byte
/// for byte in its texts) to the one written: for the points an answer shows. A number is
/// found as a `String` finds it: two spellings of one text (Unicode canonical equivalence)
/// find the same point.
final class _PointTable: Sendable {
    let numbers: _TextDictionary
    /// `index + 1` of the point whose number hashes here (or probes on from here); 0: empty.
    /// A power of two long.
    let slots: [UInt32]
    let x: [Double]
    let y: [Double]
    /// Heights (valid where `flags` has `.z`); empty when no point has one.
    let z: [Double]
    let ground: [Double]
    let depth: [Double]
    let flags: [UInt8]
    let kindCode: [UInt32]
    let kinds: [_PointKind]

    fileprivate init(_ b: _PointTableBuilder) {
        numbers = b.numbers
        slots = b.slots
        x = b.x
        y = b.y
        z = b.z
        ground = b.ground
        depth = b.depth
        flags = b.flags
        kindCode = b.kindCode
        kinds = b.kinds
    }

    var count: Int { x.count }

    /// The index of the point numbered `n`, nil when none. O(length of `n`) expected.
    @inline(__always)
    func index(of n: PointNumber) -> Int? { _PointTable.find(n.rawValue, in: slots, numbers) }

    /// The index of text `s` in `numbers` through `slots`. O(length) expected.
    static func find(_ s: String, in slots: [UInt32], _ numbers: _TextDictionary) -> Int? {
        slots.withUnsafeBufferPointer { slots in
            let mask = slots.count - 1
            var i = s.hashValue & mask
            while true {
                let v = slots[i]
                if v == 0 { return nil }
                if numbers.matches(v - 1, s) { return Int(v - 1) }
                i = (i + 1) & mask
            }
        }
    }

    @inline(__always) func has(_ i: Int, _ f: _PointFlags) -> Bool { flags[i] & f.rawValue != 0 }
    /// Ground elevation of point `i`. O(1).
    @inline(__always) func groundElevation(_ i: Int) -> Double? { has(i, .ground) ? ground[i] : nil }
    /// Position of point `i`. O(1).
    @inline(__always) func position(_ i: Int) -> Point {
        Point(x: x[i], y: y[i], z: has(i, .z) ? z[i] : nil)
    }
    /// Number of point `i`. O(length).
    func number(_ i: Int) -> PointNumber { PointNumber(rawValue: numbers.text(UInt32(i)) ?? "") }

    /// Point `i`, rebuilt from the columns: equal (`==`) to the point written. O(texts).
    func point(_ i: Int) -> FeaturePoint {
        let k = kinds[Int(kindCode[i])]
        return FeaturePoint(
            number: number(i), layer: k.layer, category: k.category, kind: k.kind, position: position(i),
            groundElevation: groundElevation(i), depth: has(i, .depth) ? depth[i] : nil, owner: k.owner, road: k.road,
            status: k.status, valveStatus: k.valveStatus, connection: k.connection)
    }
}

extension _TextDictionary {
    /// Whether text `code` equals `s` as `String`s compare (Unicode canonical equivalence):
    /// the bytes first; two texts in other bytes can only be equal when one is not ASCII.
    /// O(length).
    func matches(_ code: UInt32, _ s: String) -> Bool {
        if spells(code, s) { return true }
        let i = Int(code)
        let a = i == 0 ? 0 : Int(ends[i - 1]), b = Int(ends[i])
        let storedASCII = bytes.withUnsafeBufferPointer { all in all[a..<b].allSatisfy { $0 < 0x80 } }
        if storedASCII && s.utf8.allSatisfy({ $0 < 0x80 }) { return false }
        return text(code) == s
    }
}

/// The columns of a `_PointTable` being built, with its number look-up live all along (a
/// store read needs the ground heights of the points read so far).
struct _PointTableBuilder {
    fileprivate(set) var numbers = _TextDictionary()
    fileprivate(set) var slots: [UInt32]
    fileprivate(set) var x: [Double] = [], y: [Double] = [], z: [Double] = []
    fileprivate(set) var ground: [Double] = [], depth: [Double] = []
    fileprivate(set) var flags: [UInt8] = []
    fileprivate(set) var kindCode: [UInt32] = []
    private var kindCoder = _CombinationCoder<_PointKind>()
    var kinds: [_PointKind] { kindCoder.combinations }

    /// Columns with room for `n` points.
    init(capacity n: Int) {
        slots = Array(repeating: 0, count: Self.slotCount(for: n))
        x.reserveCapacity(n); y.reserveCapacity(n); ground.reserveCapacity(n); depth.reserveCapacity(n)
        flags.reserveCapacity(n); kindCode.reserveCapacity(n)
    }

    /// A power of two at least twice `n` (at most half full), at least 8.
    private static func slotCount(for n: Int) -> Int {
        var s = 8
        while s < 2 * n { s <<= 1 }
        return s
    }

    var count: Int { x.count }

    /// The index of the point numbered `n` so far. O(length) expected.
    func index(of n: PointNumber) -> Int? { _PointTable.find(n.rawValue, in: slots, numbers) }

    /// Ground elevation of point `i`. O(1).
    func groundElevation(_ i: Int) -> Double? { flags[i] & _PointFlags.ground.rawValue != 0 ? ground[i] : nil }

    /// Adds `p` as the next point; false (nothing added) when its number is there already.
    /// O(length of its texts) expected.
    @discardableResult
    mutating func add(_ p: FeaturePoint) -> Bool {
        guard slot(for: p.number.rawValue) else { return false }
        var f: _PointFlags = []
        if let g = p.groundElevation { f.insert(.ground); ground.append(g) } else { ground.append(.nan) }
        if let d = p.depth { f.insert(.depth); depth.append(d) } else { depth.append(.nan) }
        appendPosition(p.position, into: &f)
        flags.append(f.rawValue)
        kindCode.append(kind(_PointKind(p)))
        return true
    }

    /// Adds point `i` of `t` as the next point, its number assumed new here. `kindMap` maps
    /// `t`'s attribute codes to this table's (`UInt32.max`: not yet mapped); pass the same
    /// array for every point of one `t`. O(length of its number) expected.
    mutating func add(_ i: Int, of t: _PointTable, kindMap: inout [UInt32]) {
        if kindMap.count != t.kinds.count { kindMap = Array(repeating: UInt32.max, count: t.kinds.count) }
        let s = t.numbers.text(UInt32(i)) ?? ""
        let added = slot(for: s)
        precondition(added, "SubterraEngine invariant broken: point number \(s) twice in one point table")
        var f = _PointFlags(rawValue: t.flags[i] & ~_PointFlags.z.rawValue)
        ground.append(t.ground[i])
        depth.append(t.depth[i])
        appendPosition(t.position(i), into: &f)
        flags.append(f.rawValue)
        let k = Int(t.kindCode[i])
        if kindMap[k] == UInt32.max { kindMap[k] = kind(t.kinds[k]) }
        kindCode.append(kindMap[k])
    }

    private mutating func appendPosition(_ p: Point, into f: inout _PointFlags) {
        x.append(p.x)
        y.append(p.y)
        if let h = p.z {
            // The first height: the column comes into being, empty for the points before.
            if z.isEmpty { z = Array(repeating: .nan, count: x.count - 1) }
            z.append(h)
            f.insert(.z)
        } else if !z.isEmpty {
            z.append(.nan)
        }
    }

    /// Records text `s` as the next point's number in `numbers` and `slots`; false when it is
    /// there already. Grows the slots past half full. O(length) expected.
    private mutating func slot(for s: String) -> Bool {
        if 2 * (count + 1) > slots.count { grow() }
        let mask = slots.count - 1
        var i = s.hashValue & mask
        while slots[i] != 0 {
            if numbers.matches(slots[i] - 1, s) { return false }
            i = (i + 1) & mask
        }
        precondition(count < Int(UInt32.max) - 1, "a point table passed 2^32 points")
        let c = numbers.append(s)
        slots[i] = c + 1
        return true
    }

    /// Doubles the slots, placing every number again. O(points).
    private mutating func grow() {
        var bigger = [UInt32](repeating: 0, count: slots.count * 2)
        let mask = bigger.count - 1
        for c in 0..<numbers.count {
            var i = (numbers.text(UInt32(c)) ?? "").hashValue & mask
            while bigger[i] != 0 { i = (i + 1) & mask }
            bigger[i] = UInt32(c + 1)
        }
        slots = bigger
    }

    private mutating func kind(_ k: _PointKind) -> UInt32 { kindCoder.code(k, last: kindCode.last) }

    /// The table (the builder's look-ups dropped).
    consuming func finish() -> _PointTable { _PointTable(self) }
}

/// A point edited since the point table was built: the point (nil: deleted) and its place in
/// map order (sequence numbers after every table point's).
struct _PointEntry: Sendable {
    var point: FeaturePoint?
    var sequence: Int
}

/// The map's points as one snapshot sees them: a `_PointTable` built at the last compaction,
/// and the points edited since in `overlay`, a persistent map (``_ShardedMap``) keyed by
/// number whose entry shadows the table's point of that number (a deleted point is an entry
/// without a point). Map order: the table's points not shadowed, in index order, then the
/// overlay's in the order they were written (an upserted point moves to the end, as before).
///
/// Look-ups O(length of the number) expected; an edit O(√n) (one overlay shard copied).
/// `compacted()` folds the overlay into a new table, O(n); the engine does it at each
/// compaction, due at the latest when the overlay outgrows the table.
struct _Points: Sendable {
    let table: _PointTable
    private(set) var overlay: _ShardedMap<PointNumber, _PointEntry>
    /// The next overlay entry's place in map order.
    private(set) var nextSequence: Int
    /// Live points.
    private(set) var count: Int

    init(table: _PointTable) {
        self.table = table
        overlay = _ShardedMap(expected: table.count)
        nextSequence = table.count
        count = table.count
    }

    /// The points of `network`, in its order. O(n).
    init(_ points: [FeaturePoint]) {
        var b = _PointTableBuilder(capacity: points.count)
        for p in points { b.add(p) }
        self.init(table: b.finish())
    }

    /// The point numbered `n`. O(length of `n`) expected.
    subscript(n: PointNumber) -> FeaturePoint? {
        if !overlay.isEmpty, let e = overlay[n] { return e.point }
        return table.index(of: n).map(table.point)
    }

    /// The ground elevation of the point numbered `n` (nil: no such point, or none surveyed),
    /// without rebuilding the point. O(length of `n`) expected.
    func groundElevation(_ n: PointNumber) -> Double? {
        if !overlay.isEmpty, let e = overlay[n] { return e.point?.groundElevation }
        return table.index(of: n).flatMap(table.groundElevation)
    }

    /// Whether a point is numbered `n`.
    func contains(_ n: PointNumber) -> Bool {
        if !overlay.isEmpty, let e = overlay[n] { return e.point != nil }
        return table.index(of: n) != nil
    }

    /// Adds `p`, or replaces the point of its number (which moves to the end of map order).
    mutating func upsert(_ p: FeaturePoint) {
        if !contains(p.number) { count += 1 }
        overlay[p.number] = _PointEntry(point: p, sequence: nextSequence)
        nextSequence += 1
    }

    /// Deletes the point numbered `n`; false when there is none.
    @discardableResult
    mutating func delete(_ n: PointNumber) -> Bool {
        guard contains(n) else { return false }
        overlay[n] = table.index(of: n) == nil ? nil : _PointEntry(point: nil, sequence: -1)
        count -= 1
        return true
    }

    /// Points edited since the table was built (deletions included).
    var edited: Int { overlay.count }

    /// Whether table point `i` is shadowed by an overlay entry.
    private func shadowed(_ i: Int) -> Bool { !overlay.isEmpty && overlay[table.number(i)] != nil }

    /// The overlay's live points in map order.
    private var overlayPoints: [FeaturePoint] {
        var live: [_PointEntry] = []
        for (_, e) in overlay.entries where e.point != nil { live.append(e) }
        live.sort { $0.sequence < $1.sequence }
        return live.compactMap(\.point)
    }

    /// Every live point in map order. O(n) (O(n log n) in the overlay).
    var all: [FeaturePoint] {
        var out: [FeaturePoint] = []
        out.reserveCapacity(count)
        for i in 0..<table.count where !shadowed(i) { out.append(table.point(i)) }
        return out + overlayPoints
    }

    /// `body` of every live point's position, in no particular order. O(n).
    func forEachPosition(_ body: (Point) -> Void) {
        for i in 0..<table.count where !shadowed(i) { body(table.position(i)) }
        for (_, e) in overlay.entries { if let p = e.point { body(p.position) } }
    }

    /// The same points in the same order, all in one new table. O(n) (columns copied, no
    /// point rebuilt from the table); `self` when nothing was edited.
    func compacted() -> _Points {
        if overlay.isEmpty { return self }
        var b = _PointTableBuilder(capacity: count)
        var kindMap: [UInt32] = []
        for i in 0..<table.count where !shadowed(i) { b.add(i, of: table, kindMap: &kindMap) }
        for p in overlayPoints { b.add(p) }
        return _Points(table: b.finish())
    }
}
