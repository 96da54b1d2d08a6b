import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel
import Testing
@testable import SubterraPostGIS

/// Two editing maps on one store of record (two servers, say): each commits through the store
/// with per-feature version checks, each shows the other's edits once it follows them, and a
/// feature changed since a map's engine read it is a conflict, never overwritten.
@Suite("PostGIS editing maps", .enabled(if: PG.primary != nil, PG.skipReason))
struct PostGISEditorTests {
    static func renamed(_ s: PipeSegment, _ road: String) -> PipeSegment {
        var s = s
        s.road = road
        return s
    }

    static func editors(_ name: String) throws -> (PostGISStore, PostGISEditor, PostGISEditor) {
        let url = try PG.freshDatabase(name)
        let pg = try PostGISFollowerTests.loadSample(url, segments: 300)
        let a = try PostGISEditor(url: url), b = try PostGISEditor(url: url)
        a.start()
        b.start()
        return (pg, a, b)
    }

    @Test func anEditThroughOneMapIsShownByTheOtherAtItsVersion() throws {
        let (pg, a, b) = try Self.editors("editshare")
        defer { a.stop(); b.stop() }
        let id = try #require(a.engine.network.segments.map(\.id).min())
        let old = try #require(a.engine.segment(id: id))
        let v = try a.commit(StoreEdit(upsertSegments: [Self.renamed(old, "Edited through A")]), basedOn: EditBase(segments: [old]))
        #expect(v == (try pg.dataVersion()))
        #expect(a.follower.wait(forVersion: v, timeout: .seconds(20)), "the committing map follows its own commit")
        #expect(a.engine.segment(id: id)?.road == "Edited through A")
        #expect(b.follower.wait(forVersion: v, timeout: .seconds(20)))
        #expect(b.engine.segment(id: id)?.road == "Edited through A")
        // The store's row is the edit, at row version 2.
        #expect(try pg.segment(id: id)?.record == Self.renamed(old, "Edited through A"))
        #expect(try pg.segment(id: id)?.version == 2)
        // An insert (a new id from the store) and a delete through B, seen by A.
        let newID = try b.nextSegmentID()
        #expect(newID > (a.engine.network.segments.map(\.id).max() ?? 0))
        var copy = old
        copy.id = newID
        copy.feature = nil
        copy.part = nil
        copy.sourceID = nil
        let other = try #require(b.engine.network.segments.map(\.id).filter { $0 != id }.min())
        let otherRow = try #require(b.engine.segment(id: other))
        let v2 = try b.commit(StoreEdit(upsertSegments: [copy], deleteSegments: [other]), basedOn: EditBase(segments: [otherRow]))
        #expect(v2 == v + 1)
        #expect(a.follower.wait(forVersion: v2, timeout: .seconds(20)))
        #expect(a.engine.segment(id: newID) == copy && a.engine.segment(id: other) == nil)
        let (x, y) = PostGISFollowerTests.sorted(a.engine.network), (z, w) = PostGISFollowerTests.sorted(try pg.loadAll())
        #expect(x == z && y == w, "A's map is the store's")
    }

    @Test func aFeatureChangedSinceTheEngineReadItIsAConflictAndNothingChanges() throws {
        let (pg, a, b) = try Self.editors("editconflict")
        defer { a.stop(); b.stop() }
        let id = try #require(a.engine.network.segments.map(\.id).min())
        // B reads, then A changes the pipe; B's edit from what it read is refused (even once
        // B's engine shows A's change: the rows read count, not the engine now).
        let old = try #require(b.engine.segment(id: id))
        let v = try a.commit(StoreEdit(upsertSegments: [Self.renamed(old, "A was first")]), basedOn: EditBase(segments: [old]))
        #expect(b.follower.wait(forVersion: v, timeout: .seconds(20)))
        for edit in [StoreEdit(upsertSegments: [Self.renamed(old, "B was second")]), StoreEdit(deleteSegments: [id])] {
            let e = #expect(throws: EngineError.self) { try b.commit(edit, basedOn: EditBase(segments: [old])) }
            #expect(e?.storeFailure == .conflict, "\(e.map { "\($0)" } ?? "")")
            #expect(e?.message.contains("segment \(id)") == true)
        }
        #expect(try pg.dataVersion() == v, "a refused edit commits nothing")
        #expect(try pg.segment(id: id)?.record.road == "A was first")
        // Read again and the edit goes through.
        let again = try #require(b.engine.segment(id: id))
        #expect(again.road == "A was first")
        #expect(try b.commit(StoreEdit(upsertSegments: [Self.renamed(again, "B after reading again")]), basedOn: EditBase(segments: [again])) == v + 1)
        // Two inserts of one new id: the second is a conflict.
        let newID = try a.nextSegmentID()
        var s = old
        s.id = newID
        s.feature = nil
        s.part = nil
        s.sourceID = nil
        _ = try a.commit(StoreEdit(upsertSegments: [s]), basedOn: EditBase())
        let e = #expect(throws: EngineError.self) { try b.commit(StoreEdit(upsertSegments: [Self.renamed(s, "twin")]), basedOn: EditBase()) }
        #expect(e?.storeFailure == .conflict)
        // The engine's own checks come first: a vertex far outside the map's area is refused
        // without a store failure, and nothing is written.
        let before = try pg.dataVersion()
        var far = old
        far.geometry = try LineString([Point(1e9, 1e9), Point(1e9 + 5, 1e9)])
        let refused = #expect(throws: EngineError.self) { try a.commit(StoreEdit(upsertSegments: [far]), basedOn: EditBase(segments: [old])) }
        #expect(refused?.storeFailure == nil)
        #expect(try pg.dataVersion() == before)
    }

    /// Editors on two threads change the same pipe from the same read: exactly one wins.
    @Test func racingEditorsOfOnePipeHaveOneWinner() throws {
        let (pg, a, b) = try Self.editors("editrace")
        defer { a.stop(); b.stop() }
        let ids = a.engine.network.segments.map(\.id).sorted().prefix(8)
        for id in ids {
            let old = try #require(a.engine.segment(id: id))
            #expect(b.engine.segment(id: id) == old)
            let results = Results()
            let group = DispatchGroup()
            for (map, road) in [(a, "A \(id)"), (b, "B \(id)")] {
                DispatchQueue.global().async(group: group) {
                    do { results.add(.success(try map.commit(StoreEdit(upsertSegments: [Self.renamed(old, road)]), basedOn: EditBase(segments: [old])))) } catch {
                        results.add(.failure(error))
                    }
                }
            }
            #expect(group.wait(timeout: .now() + 60) == .success)
            let all = results.all
            let won = all.compactMap { try? $0.get() }
            let lost = all.compactMap { r -> EngineError? in if case .failure(let e) = r { return e as? EngineError } else { return nil } }
            #expect(won.count == 1 && lost.count == 1, "pipe \(id): \(all)")
            #expect(lost.first?.storeFailure == .conflict)
            let v = try pg.dataVersion()
            #expect(a.follower.wait(forVersion: v, timeout: .seconds(20)) && b.follower.wait(forVersion: v, timeout: .seconds(20)))
            #expect(try pg.segment(id: id)?.version == 2, "pipe \(id) changed once")
        }
    }

    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [Result<Int64, any Error>] = []
        func add(_ r: Result<Int64, any Error>) { lock.withLock { items.append(r) } }
        var all: [Result<Int64, any Error>] { lock.withLock { items } }
    }
}
