import Foundation
import Testing
@testable import SubterraIndex

@Suite struct PersistenceTests {
    func sampleTree(_ n: Int = 700) throws -> PackedRTree {
        try PackedRTree(boxes: makeSegments(.huge, count: n, seed: 8).map(\.box), ids: (0..<UInt32(n)).map { $0 * 7 }, nodeSize: 9)
    }

    @Test func roundTripThroughDataAndFile() throws {
        for n in [0, 1, 700] {
            let tree = try sampleTree(n)
            let back = try PackedRTree(serialized: tree.serialized())
            #expect(back._boxes.array == tree._boxes.array && back.leafIDs == tree.leafIDs && back._levelEnds == tree._levelEnds)
            #expect(back.nodeSize == 9)
            try back.validate()
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("subterra-index-\(n)-\(UUID()).idx")
            defer { try? FileManager.default.removeItem(at: url) }
            try tree.write(to: url)
            let fromFile = try PackedRTree(contentsOf: url)
            #expect(fromFile._boxes.array == tree._boxes.array && fromFile.leafIDs == tree.leafIDs)
            if let b = tree.bounds { #expect(Set(fromFile.intersecting(b)) == Set(tree.leafIDs)) }
        }
    }

    @Test func truncatedFilesAreRefused() throws {
        let data = try sampleTree(50).serialized()
        for cut in Array(0..<64) + [data.count / 2, data.count - 9, data.count - 1] {
            #expect(throws: IndexError.self) { try PackedRTree(serialized: data.prefix(cut)) }
        }
        do { _ = try PackedRTree(serialized: data.prefix(data.count - 4)) } catch let e as IndexError {
            #expect(e == .truncated(expected: data.count, actual: data.count - 4))
        }
        var longer = data
        longer.append(0)
        #expect(throws: IndexError.self) { try PackedRTree(serialized: longer) }
    }

    @Test func corruptBytesAreRefused() throws {
        let data = try sampleTree(200).serialized()
        var rng = SplitMix64(seed: 21)
        for _ in 0..<300 {
            var bad = data
            let at = Int.random(in: 0..<bad.count, using: &rng)
            bad[at] ^= UInt8.random(in: 1...255, using: &rng)
            #expect(throws: IndexError.self, "flip at byte \(at)") { try PackedRTree(serialized: bad) }
        }
    }

    @Test func foreignAndWrongVersionFilesAreRefused() throws {
        #expect(throws: IndexError.badMagic) { try PackedRTree(serialized: Data("PK\u{3}\u{4} this is a zip file, honest".utf8)) }
        #expect(throws: IndexError.truncated(expected: 48, actual: 0)) { try PackedRTree(serialized: Data()) }
        var data = try sampleTree(30).serialized()
        data[8] = 3
        #expect(throws: IndexError.unsupportedVersion(found: 3, supported: 2)) { try PackedRTree(serialized: data) }
        #expect(throws: IndexError.self) {
            try PackedRTree(contentsOf: URL(fileURLWithPath: "/nonexistent/dir/x.idx"))
        }
        #expect(throws: IndexError.self) {
            try sampleTree(3).write(to: URL(fileURLWithPath: "/nonexistent/dir/x.idx"))
        }
    }

    @Test func checksumValidButInconsistentFilesAreRefused() throws {
        // A crafted file: shrink a leaf box, re-sign the payload. The checksum passes, validate() must not.
        var data = try sampleTree(100).serialized()
        let leafOffset = 48 + 8 * (try sampleTree(100).levelCount)  // first leaf's minX
        data.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: -1e30, toByteOffset: leafOffset, as: Double.self)
            let sum = _checksum(UnsafeRawBufferPointer(rebasing: raw[48...]))
            raw.storeBytes(of: sum, toByteOffset: 40, as: UInt64.self)
        }
        #expect(throws: IndexError.self) { try PackedRTree(serialized: data) }
        // A header whose sizes disagree with the level table.
        var data2 = try sampleTree(100).serialized()
        data2.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt64(99), toByteOffset: 48, as: UInt64.self)
            let sum = _checksum(UnsafeRawBufferPointer(rebasing: raw[48...]))
            raw.storeBytes(of: sum, toByteOffset: 40, as: UInt64.self)
        }
        #expect(throws: IndexError.self) { try PackedRTree(serialized: data2) }
    }

    @Test func positionalTreesStoreNoIDsAndVersionOneStillReads() throws {
        // A renumbered tree (ids = leaf positions) is written without its id array (flag bit 0).
        let boxes = makeSegments(.streets, count: 500, seed: 9).map(\.box)
        let (positional, _) = try PackedRTree.renumbered(boxes: boxes)
        let withIDs = try PackedRTree(boxes: boxes, ids: (0..<UInt32(500)).map { $0 * 3 + 1 })
        let p = positional.serialized(), q = withIDs.serialized()
        #expect(q.count - p.count == 500 * 4)
        #expect(p[36] == 1 && q[36] == 0)
        let back = try PackedRTree(serialized: p)
        #expect(back.idsAreLeafPositions && back.leafIDs == (0..<UInt32(500)).map { $0 })
        // Version 1 had the same layout with the ids always present and the flags zero.
        var v1 = q
        v1[8] = 1
        let old = try PackedRTree(serialized: v1)
        #expect(old.leafIDs == withIDs.leafIDs && old._boxes.array == withIDs._boxes.array)
        // Version 1 never had flags.
        var v1Flagged = p
        v1Flagged[8] = 1
        #expect(throws: IndexError.self) { try PackedRTree(serialized: v1Flagged) }
    }

    final class Owner {}

    @Test(arguments: [false, true])
    func borrowedTreesAnswerInPlace(verifiedByCaller: Bool) throws {
        let tree = try sampleTree(700)
        // Aligned memory, as a mapped file gives: the boxes are read where they lie.
        let data = tree.serialized()
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: data.count, alignment: 16)
        defer { memory.deallocate() }
        data.withUnsafeBytes { memory.copyMemory(from: $0) }
        let owner = Owner()
        let borrowed = try PackedRTree(borrowing: UnsafeRawBufferPointer(memory), owner: owner, verifiedByCaller: verifiedByCaller)
        #expect(borrowed._boxes.isBorrowed)
        #expect(borrowed._boxes.array == tree._boxes.array && borrowed.leafIDs == tree.leafIDs)
        let b = tree.bounds!
        let window = Box(minX: b.minX, minY: b.minY, maxX: (b.minX + b.maxX) / 2, maxY: (b.minY + b.maxY) / 2)
        #expect(borrowed.intersecting(window) == tree.intersecting(window))
        // Unaligned bytes are copied, with the same answers.
        let shifted = UnsafeMutableRawBufferPointer.allocate(byteCount: data.count + 1, alignment: 16)
        defer { shifted.deallocate() }
        data.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: shifted[1...]).copyMemory(from: $0) }
        let copied = try PackedRTree(borrowing: UnsafeRawBufferPointer(rebasing: shifted[1...]), owner: owner,
                                     verifiedByCaller: verifiedByCaller)
        #expect(!copied._boxes.isBorrowed && copied.intersecting(window) == tree.intersecting(window))
        // A damaged box: caught by the tree's checksum unless the caller vouched for the bytes.
        memory.storeBytes(of: -1e30, toByteOffset: 48 + 8 * tree.levelCount, as: Double.self)
        if verifiedByCaller {
            #expect(throws: Never.self) { try PackedRTree(borrowing: UnsafeRawBufferPointer(memory), owner: owner, verifiedByCaller: true) }
        } else {
            #expect(throws: IndexError.self) { try PackedRTree(borrowing: UnsafeRawBufferPointer(memory), owner: owner, verifiedByCaller: false) }
        }
        // A level table that would send a traversal outside the boxes is refused either way.
        memory.storeBytes(of: UInt64(99), toByteOffset: 48, as: UInt64.self)
        #expect(throws: IndexError.self) {
            try PackedRTree(borrowing: UnsafeRawBufferPointer(memory), owner: owner, verifiedByCaller: verifiedByCaller)
        }
    }

    @Test func blockChecksumSeesEveryChangeAndIsDeterministic() {
        // Three blocks and a tail, so lanes, blocks and the tail all count.
        let n = 3 * (1 << 20) + 13
        var bytes = [UInt8](repeating: 0, count: n)
        var rng = SplitMix64(seed: 5)
        for i in 0..<n { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        let base = bytes.withUnsafeBytes { _blockChecksum($0) }
        #expect(bytes.withUnsafeBytes { _blockChecksum($0) } == base)
        for at in [0, 7, 8, 31, 32, (1 << 20) - 1, 1 << 20, 2 * (1 << 20) + 17, n - 1] + (0..<40).map({ _ in Int.random(in: 0..<n, using: &rng) }) {
            var bad = bytes
            bad[at] ^= 0x01
            #expect(bad.withUnsafeBytes { _blockChecksum($0) } != base, "flip at \(at)")
        }
        // Two words of different lanes swapped, two whole blocks swapped, one byte cut off.
        var swapped = bytes
        for i in 0..<8 { swapped.swapAt(i, 8 + i) }
        #expect(swapped.withUnsafeBytes { _blockChecksum($0) } != base)
        var blocks = bytes
        for i in 0..<(1 << 20) { blocks.swapAt(i, (1 << 20) + i) }
        #expect(blocks.withUnsafeBytes { _blockChecksum($0) } != base)
        #expect(bytes.dropLast().withUnsafeBytes { _blockChecksum($0) } != base)
        #expect([UInt8]().withUnsafeBytes { _blockChecksum($0) } != [UInt8](repeating: 0, count: 1).withUnsafeBytes { _blockChecksum($0) })
    }
}
