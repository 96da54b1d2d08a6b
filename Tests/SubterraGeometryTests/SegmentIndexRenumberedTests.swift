import Foundation
import SubterraGeometry
import SubterraIndex
import Testing

/// `SegmentIndex.renumbered(segments:)`: ids are leaf positions and no id array is stored. Every
/// query form against brute force over the segments in leaf order, the permutation, the size, and
/// the serialized form of both the positional and the id-carrying index.
@Suite("SegmentIndex renumbered (ids = leaf positions)")
struct SegmentIndexRenumberedTests {
    typealias T = SegmentIndexTests

    static func segments(_ family: String) -> [Segment] {
        switch family {
        case "uniform": T.uniform(2000, seed: 21)
        case "clustered": T.clustered(2000, seed: 22)
        case "streets": T.streets(seed: 23)
        default: [   // degenerate: overlaps, touches, zero-length twice, a diagonal
            Segment(x0: 0, y0: 0, x1: 10, y1: 0), Segment(x0: 5, y0: 0, x1: 15, y1: 0),
            Segment(x0: 10, y0: 0, x1: 10, y1: 10), Segment(x0: 3, y0: 3, x1: 3, y1: 3),
            Segment(x0: 3, y0: 3, x1: 3, y1: 3), Segment(x0: 0, y0: 10, x1: 10, y1: 0),
            Segment(x0: -5, y0: -5, x1: -1, y1: -1),
        ]
        }
    }

    @Test(arguments: ["uniform", "clustered", "streets", "degenerate"])
    func equalsBruteForceInLeafOrder(family: String) throws {
        let segs = Self.segments(family)
        let (index, order) = try SegmentIndex.renumbered(segments: segs)
        #expect(index.count == segs.count)
        #expect(index.idsAreLeafPositions && index.idsAreDistinct)
        // `order` is a permutation, and leaf i holds input segment order[i] bit for bit.
        #expect(order.sorted() == (0..<UInt32(segs.count)).map { $0 })
        let inLeafOrder = order.map { segs[Int($0)] }
        #expect(index.segments.map(\.id) == (0..<UInt32(segs.count)).map { $0 })
        #expect(index.segments.map(\.segment) == inLeafOrder)
        #expect(index.largestID == UInt32(segs.count - 1))
        T.checkAll(index, inLeafOrder, (0..<UInt32(segs.count)).map { $0 }, seed: 31, family: "\(family) renumbered")
    }

    @Test func sameOrderAndAnswersAsTheIdForm() throws {
        // The id form built on the same segments visits the same leaves; its answers, mapped
        // through `order`, are the positional form's.
        let segs = T.streets(seed: 24)
        let (positional, order) = try SegmentIndex.renumbered(segments: segs)
        let withIDs = try SegmentIndex(segments: segs)
        #expect(withIDs.segments.map(\.id) == order)
        let p = Point(637_123.5, 3_140_081.25)
        #expect(positional.nearest(k: 7, to: p).map { order[Int($0.id)] } == withIDs.nearest(k: 7, to: p).map(\.id))
        #expect(Set(positional.within(12, of: p).map { order[Int($0.id)] }) == Set(withIDs.within(12, of: p).map(\.id)))
    }

    @Test func storesNoIDArray() throws {
        // 32 bytes of leaf box (the geometry), a quarter byte of corner code and the internal
        // nodes (about 32 / 15 bytes at node size 16): under 36 bytes per segment, and exactly
        // 4 bytes per segment less than the id form.
        let segs = T.uniform(100_000, seed: 25)
        let (positional, _) = try SegmentIndex.renumbered(segments: segs)
        let withIDs = try SegmentIndex(segments: segs)
        #expect(withIDs.memoryFootprint - positional.memoryFootprint == 4 * segs.count)
        let perSegment = Double(positional.memoryFootprint) / Double(segs.count)
        #expect(perSegment > 32.25 && perSegment <= 36, "\(perSegment) bytes per segment")
    }

    @Test func refusesNonFiniteSegments() {
        let segs = [Segment(x0: 0, y0: 0, x1: 1, y1: 1), Segment(x0: 0, y0: .nan, x1: 1, y1: 1)]
        #expect(throws: IndexError.self) { try SegmentIndex.renumbered(segments: segs) }
        let (empty, order) = try! SegmentIndex.renumbered(segments: [])
        #expect(empty.isEmpty && order.isEmpty && !empty.idsAreLeafPositions)
    }

    @Test(arguments: [false, true])
    func serializedRoundTrip(positional: Bool) throws {
        let segs = T.clustered(3000, seed: 26)
        let ids = T.ids(for: segs, polylines: true)
        let index = positional ? try SegmentIndex.renumbered(segments: segs).index : try SegmentIndex(segments: segs, ids: ids)
        let bytes = index.serialized()
        let back = try bytes.withUnsafeBytes { try SegmentIndex(serialized: $0) }
        #expect(back.idsAreLeafPositions == positional)
        #expect(back.idsAreDistinct == index.idsAreDistinct)
        #expect(back.segments.map(\.id) == index.segments.map(\.id))
        #expect(back.segments.map(\.segment) == index.segments.map(\.segment))
        #expect(back.memoryFootprint == index.memoryFootprint)
        let p = Point(638_000, 3_141_000)
        #expect(back.nearest(k: 5, to: p) == index.nearest(k: 5, to: p))

        // A truncated copy, one byte too many, and flag bit 1 without bit 0 (positional ids are
        // always distinct) are refused.
        #expect(throws: IndexError.self) { try bytes.dropLast().withUnsafeBytes { try SegmentIndex(serialized: $0) } }
        #expect(throws: IndexError.self) { try (bytes + [0]).withUnsafeBytes { try SegmentIndex(serialized: $0) } }
        var badFlags = bytes
        badFlags[12] = 2
        #expect(throws: IndexError.self) { try badFlags.withUnsafeBytes { try SegmentIndex(serialized: $0) } }
        // The id form's bytes relabelled as positional no longer add up.
        if !positional {
            var relabelled = bytes
            relabelled[12] |= 3
            #expect(throws: IndexError.self) { try relabelled.withUnsafeBytes { try SegmentIndex(serialized: $0) } }
        }
    }

    final class Owner {}

    @Test(arguments: [false, true])
    func borrowedIndexAnswersAsTheCopiedOne(positional: Bool) throws {
        let segs = T.streets(seed: 27)
        let index = positional ? try SegmentIndex.renumbered(segments: segs).index
            : try SegmentIndex(segments: segs, ids: T.ids(for: segs, polylines: true))
        let data = index.serialized()
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: data.count, alignment: 16)
        defer { memory.deallocate() }
        data.withUnsafeBytes { memory.copyMemory(from: $0) }
        for verified in [false, true] {
            let borrowed = try SegmentIndex(borrowing: UnsafeRawBufferPointer(memory), owner: Owner(), verifiedByCaller: verified)
            #expect(borrowed.segments.map(\.id) == index.segments.map(\.id))
            #expect(borrowed.segments.map(\.segment) == index.segments.map(\.segment))
            #expect(borrowed.idsAreLeafPositions == positional && borrowed.idsAreDistinct == index.idsAreDistinct)
            let p = Point(637_200, 3_140_100)
            #expect(borrowed.nearest(k: 9, to: p) == index.nearest(k: 9, to: p))
            #expect(borrowed.within(15, of: p) == index.within(15, of: p))
        }
        // Sizes that do not add up are refused before anything is read in place.
        #expect(throws: IndexError.self) {
            try SegmentIndex(borrowing: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(memory).dropLast()), owner: Owner(),
                             verifiedByCaller: true)
        }
    }

    @Test func anEmbeddedTreeWithStoredIDsIsRefused() throws {
        // A crafted index: the tree's leaves carry ids other than their positions. Queries use a
        // tree id to index the ids and corner codes, so such a file must not load.
        let segs = T.uniform(300, seed: 28)
        let (index, _) = try SegmentIndex.renumbered(segments: segs)
        let good = index.serialized()
        let treeLength = Int(good.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 24, as: UInt64.self) })
        let boxes = index.segments.map(\.segment.box)
        let crafted = try PackedRTree(boxes: boxes, ids: (0..<UInt32(300)).map { 4_000_000_000 - $0 }).serialized()
        var bytes = Data(good.prefix(32))
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(crafted.count).littleEndian, toByteOffset: 24, as: UInt64.self) }
        bytes.append(crafted)
        bytes.append(good.suffix(from: good.startIndex + 32 + treeLength))
        #expect(throws: IndexError.self) { try bytes.withUnsafeBytes { try SegmentIndex(serialized: $0) } }
        #expect(throws: IndexError.self) {
            try bytes.withUnsafeBytes { try SegmentIndex(borrowing: $0, owner: Owner(), verifiedByCaller: true) }
        }
        // The untouched bytes still load.
        #expect(try good.withUnsafeBytes { try SegmentIndex(serialized: $0) }.count == 300)
    }
}
