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
            #expect(back._boxes == tree._boxes && back.leafIDs == tree.leafIDs && back._levelEnds == tree._levelEnds)
            #expect(back.nodeSize == 9)
            try back.validate()
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("subterra-index-\(n)-\(UUID()).idx")
            defer { try? FileManager.default.removeItem(at: url) }
            try tree.write(to: url)
            let fromFile = try PackedRTree(contentsOf: url)
            #expect(fromFile._boxes == tree._boxes && fromFile.leafIDs == tree.leafIDs)
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
        data[8] = 2
        #expect(throws: IndexError.unsupportedVersion(found: 2, supported: 1)) { try PackedRTree(serialized: data) }
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
}
