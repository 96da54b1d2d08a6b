import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraRequests

/// A batch on a ``WarmingMap`` the way `query --batch` runs it: workers held back while the
/// engine loads and started when it has, answers in input order and byte-identical to one
/// thread on the whole engine, whether a line ran before or after the switch.
@Suite struct BatchWhileWarmingTests {
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func add(_ b: [String]) { lock.withLock { lines += b } }
        var all: [String] { lock.withLock { lines } }
        var count: Int { lock.withLock { lines.count } }
    }

    /// 400 pipes of every layer on a 1 km square, stored in a new GeoPackage.
    static func store(in dir: URL) throws -> String {
        var state: UInt64 = 0x5EED_0014
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let layers: [LayerCode] = [.water, .drainage, .gas, .heat, .power, .telecom]
        var segments: [PipeSegment] = []
        for i in 0..<400 {
            let a = Point(501_000 + 1000 * next(), 3_379_000 + 1000 * next())
            let b = Point(a.x + 60 * next() - 30, a.y + 60 * next() - 30)
            segments.append(PipeSegment(
                id: Int64(i + 1), layer: layers[i % layers.count], startPoint: PointNumber(rawValue: "P\(2 * i)"), endPoint: PointNumber(rawValue: "P\(2 * i + 1)"),
                geometry: try LineString([a, b]), startDepth: 0.5 + 2 * next(), endDepth: 0.5 + 2 * next(),
                owner: i % 3 == 0 ? "Owner \(i % 5)" : nil))
        }
        let path = dir.appendingPathComponent("map.gpkg").path
        let store = try GeoPackageStore.create(at: path)
        try store.apply(StoreEdit(upsertSegments: segments))
        return path
    }

    /// Mixed batch lines over the map's square, a few of them refused.
    static func lines(_ n: Int) -> [String] {
        (0..<n).map { i in
            let x = 501_000 + Double((i * 7919) % 1000), y = 3_379_000 + Double((i * 104_729) % 1000)
            switch i % 5 {
            case 0: return #"{"id":\#(i),"op":"nearest","geometry":"POINT (\#(x) \#(y))","k":\#(1 + i % 4)}"#
            case 1: return #"{"id":\#(i),"op":"within","geometry":"POINT (\#(x) \#(y))","distance":\#(5 + i % 20)}"#
            case 2:
                return #"{"id":\#(i),"op":"check-dig","geometry":"POLYGON ((\#(x) \#(y), \#(x + 15) \#(y), \#(x + 15) \#(y + 12), \#(x) \#(y + 12), \#(x) \#(y)))","depth":1.5}"#
            case 3: return #"{"id":\#(i),"op":"intersects","geometry":"LINESTRING (\#(x) \#(y), \#(x + 40) \#(y + 25))"}"#
            default: return i % 10 == 4 ? "not json \(i)" : #"{"id":\#(i),"op":"nearest","geometry":"POINT (\#(x) \#(y))"}"#
            }
        }
    }

    /// Each half of the batch is submitted while the engine is held loading (a gate the test
    /// opens), the first half answered from the snapshot file and the second after the switch;
    /// at 1, 2 and 4 threads, with all but one worker held back until the load is done.
    @Test(arguments: [1, 2, 4])
    func answersAreInOrderAndEqualBeforeAndAfterTheSwitch(threads: Int) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("warming-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.store(in: dir)
        let store = try GeoPackageStore.open(at: path, readOnly: true)
        let input = Self.lines(300)
        let whole = RequestRunner(engine: try UtilityEngine(store: store))
        let expected = input.enumerated().map { whole.answer(line: $1, number: $0 + 1) }
        #expect(expected.filter { $0.contains(#""ok":true"#) }.count == 270)

        let gate = DispatchSemaphore(value: 0)
        let map = WarmingMap(try MappedMap.open(store: store)) { () throws(EngineError) -> UtilityEngine in
            gate.wait()
            return try UtilityEngine(store: try! GeoPackageStore.open(at: path, readOnly: true))
        }
        let runner = RequestRunner(engine: map)
        let out = Lines()
        let p = OrderedPipeline<(Int, String), String>(
            threads: threads, holdBack: threads - 1, work: { runner.answer(line: $0.1, number: $0.0) }, emit: { out.add($0) })
        map.whenSettled { p.startHeldBackWorkers() }
        #expect(!map.isSettled)

        for (i, line) in input.enumerated().prefix(150) { try p.submit((i + 1, line)) }
        for _ in 0..<600 where out.count < 150 { usleep(50_000) }
        #expect(out.count == 150 && map.engine == nil, "the first half answered while loading")
        gate.signal()
        #expect(map.waitUntilLoaded() && map.isSettled)
        for (i, line) in input.enumerated().dropFirst(150) { try p.submit((i + 1, line)) }
        try p.finish()
        #expect(out.all == expected)
    }

    /// A map that has settled runs the callback at once, on the caller's thread; one still
    /// loading runs every callback once, when the load ends, also when it fails.
    @Test func whenSettledRunsEachCallbackOnceAfterTheLoad() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("warming-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try GeoPackageStore.open(at: try Self.store(in: dir), readOnly: true)
        let gate = DispatchSemaphore(value: 0)
        let failing = WarmingMap(try MappedMap.open(store: store)) { () throws(EngineError) -> UtilityEngine in
            gate.wait()
            throw EngineError("no engine today", at: "test")
        }
        let calls = Lines()
        failing.whenSettled { calls.add(["a"]) }
        failing.whenSettled { calls.add(["b"]) }
        usleep(100_000)
        #expect(calls.count == 0 && !failing.isSettled)
        gate.signal()
        #expect(!failing.waitUntilLoaded() && failing.isSettled)
        for _ in 0..<200 where calls.count < 2 { usleep(10_000) }
        #expect(calls.all.sorted() == ["a", "b"])
        failing.whenSettled { calls.add(["c"]) }
        #expect(calls.all.count == 3 && calls.all.last == "c", "called at once")
    }
}
