import Foundation
import SubterraGeometry
@testable import SubterraRequests
import Testing

/// Request decoding, geometry text limits and the ordered pipeline, without a map.
@Suite struct QueryRequestTests {
    func decode(_ line: String) throws -> QueryRequest {
        try JSONDecoder().decode(QueryRequest.self, from: Data(line.utf8))
    }

    func refusal(_ line: String) -> String {
        do {
            _ = try decode(line)
            return ""
        } catch {
            return RequestError(error).description
        }
    }

    @Test func decodesEveryDocumentedFieldAndRoundTrips() throws {
        let q = try decode(
            #"{"id":{"a":[1,"x"]},"op":"check-route","geometry":"LINESTRING (0 0, 1 1)","crs":"EPSG:4549","k":2,"maxDistance":5,"perLayer":true,"distance":1,"depth":1.5,"layers":"RQ","subtypes":["TR"],"owners":["A","B"],"workType":"manual","layer":"RQ","subtype":"TR","diameter":200,"pressure":0.3,"voltage":10,"burial":"direct","depthStart":1,"depthEnd":2,"surface":"sidewalk"}"#)
        #expect(q.op == .checkRoute && q.k == 2 && q.perLayer == true && q.layers == ["RQ"] && q.owners == ["A", "B"])
        #expect(q.geometry == .string("LINESTRING (0 0, 1 1)"))
        #expect(q.id == .object(["a": .array([.number(1), .string("x")])]))
        let again = try JSONDecoder().decode(QueryRequest.self, from: JSONEncoder().encode(q))
        #expect(again == q)
        #expect(Set(QueryRequest.fieldNames).count == 29)
        let object = try decode(#"{"op":"nearest","geometry":{"type":"Point","coordinates":[1,2]},"k":null}"#)
        #expect(object.geometry.objectValue?["type"] == .string("Point") && object.k == nil)
    }

    @Test func refusesUnknownFieldsAndWrongTypesNamingTheField() {
        #expect(refusal(#"{"op":"nearest","geometry":"POINT (1 2)","colour":1}"#).hasPrefix("unknown field 'colour' (fields: id, op, geometry,"))
        #expect(refusal(#"{"geometry":"POINT (1 2)"}"#) == "field op is missing (nearest, intersects, within, check-dig, check-route, section, isolate, trace, valve-segments)")
        #expect(refusal(#"{"op":"buffer","geometry":"POINT (1 2)"}"#).hasPrefix("field op: unknown operation 'buffer'"))
        #expect(refusal(#"{"op":"nearest"}"#) == "field geometry is missing (WKT string or GeoJSON geometry)")
        #expect(refusal(#"{"op":"nearest","geometry":5}"#) == "field geometry must be a WKT string or a GeoJSON object")
        #expect(refusal(#"{"op":"nearest","geometry":"POINT (1 2)","k":1.5}"#) == "field k must be an integer")
        #expect(refusal(#"{"op":"nearest","geometry":"POINT (1 2)","maxDistance":"5"}"#) == "field maxDistance must be a number")
        #expect(refusal(#"{"op":"nearest","geometry":"POINT (1 2)","crs":4549}"#) == "field crs must be a string")
        #expect(refusal(#"{"op":"nearest","geometry":"POINT (1 2)","owners":[1]}"#) == "field owners must be a list of strings")
        #expect(refusal(#"{"op":"nearest","geometry":"POINT (1 2)","owners":[]}"#) == "field owners is an empty list; leave it out for no condition")
    }
}

@Suite struct GeometryInputTests {
    let limits = RequestLimits(maxLineBytes: 1000, maxGeometryBytes: 100, maxVertices: 4, maxDepth: 3)

    func refusal(_ text: String) -> String {
        do {
            _ = try GeometryInput.parse(text, crs: nil, feature: nil, limits: limits, origin: "field geometry")
            return ""
        } catch {
            return error.description
        }
    }

    @Test func textOnlyNeverAPath() {
        for text in ["@/etc/passwd", "  @x.wkt", "@"] {
            #expect(refusal(text) == "field geometry: '@' names a file, which only the command line may read; send the geometry itself (WKT or GeoJSON)")
        }
    }

    @Test func eachLimitHasItsOwnMessage() throws {
        #expect(refusal("POINT (1 2)" + String(repeating: " ", count: 100)) == "field geometry: the geometry text is 111 bytes; the limit is 100 (raise it with --max-geometry-bytes)")
        #expect(refusal("LINESTRING (0 0, 1 1, 2 2, 3 3, 4 4)").hasPrefix("field geometry (WKT): more than 4 vertices"))
        #expect(refusal("LINESTRING (0 0, 1 1, 2 2, 3 3, 4 4)").hasSuffix("the limit (raise it with --max-vertices)"))
        #expect(refusal("GEOMETRYCOLLECTION (GEOMETRYCOLLECTION (GEOMETRYCOLLECTION (POINT (1 2))))").hasPrefix("field geometry (WKT): nested deeper than 3 levels"))
        #expect(refusal(#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}"#).hasPrefix("field geometry (GeoJSON): nested deeper than 3 levels"))
        let g = try GeometryInput.parse("SRID=4326;POINT (1 2)", crs: nil, feature: nil, limits: limits, origin: "x")
        #expect(g.geometry == .point(Point(x: 1, y: 2)) && g.crs == "EPSG:4326")
    }

    @Test func limitsBelowOneOrAboveTheParsersCeilingAreRefused() {
        func message(_ l: RequestLimits) -> String {
            do {
                try l.validate { _ in "--limit" }
                return ""
            } catch { return error.description }
        }
        var l = RequestLimits.default
        #expect(message(l) == "")
        l.maxVertices = 0
        #expect(message(l) == "--limit 0: a limit must be at least 1")
        l = .default
        l.maxDepth = 257
        #expect(message(l) == "--limit 257: at most 256 (the parsers' ceiling)")
    }
}

@Suite struct OrderedPipelineTests {
    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [Int] = []
        private var batches = 0
        func add(_ b: [Int]) { lock.withLock { items += b; batches += 1 } }
        var all: [Int] { lock.withLock { items } }
    }

    @Test(arguments: [1, 3, 8])
    func emitsInInputOrderWhateverTheThreadCount(threads: Int) throws {
        let out = Collected()
        let p = OrderedPipeline<Int, Int>(
            threads: threads, window: 16,
            work: { i in
                // Later items often finish first.
                usleep(UInt32((i * 7919) % 5) * 200)
                return i * 2
            },
            emit: { out.add($0) })
        for i in 0..<500 { try p.submit(i) }
        try p.finish()
        #expect(out.all == (0..<500).map { $0 * 2 })
    }

    @Test func eachResultIsEmittedBeforeTheNextItemIsSubmitted() throws {
        let emitted = DispatchSemaphore(value: 0)
        let p = OrderedPipeline<Int, Int>(threads: 2, work: { $0 }, emit: { b in for _ in b { emitted.signal() } })
        for i in 0..<5 {
            try p.submit(i)
            #expect(emitted.wait(timeout: .now() + 10) == .success, "result \(i) out before input \(i + 1)")
        }
        try p.finish()
    }

    @Test func aSlowItemHoldsBackAtMostTheWindow() throws {
        let release = DispatchSemaphore(value: 0)
        let out = Collected()
        let p = OrderedPipeline<Int, Int>(
            threads: 4, window: 6,
            work: { i in
                if i == 0 { release.wait() }
                return i
            },
            emit: { out.add($0) })
        final class Count: @unchecked Sendable {
            let lock = NSLock()
            var n = 0
        }
        let submitted = Count()
        let producer = Thread {
            for i in 0..<100 {
                try? p.submit(i)
                submitted.lock.withLock { submitted.n += 1 }
            }
            try? p.finish()
        }
        producer.start()
        usleep(300_000)
        #expect(submitted.lock.withLock { submitted.n } == 6, "the window stops the reader")
        #expect(out.all.isEmpty)
        release.signal()
        for _ in 0..<200 where out.all.count < 100 { usleep(50_000) }
        #expect(out.all == Array(0..<100))
    }

    /// Held-back workers start only when asked: with two threads and one held back, an item
    /// blocked until another has started stays alone; once started, both run, output in order.
    @Test func heldBackWorkersStartOnlyWhenAsked() throws {
        let release = DispatchSemaphore(value: 0), secondStarted = DispatchSemaphore(value: 0)
        let out = Collected()
        let p = OrderedPipeline<Int, Int>(
            threads: 2, holdBack: 1,
            work: { i in
                if i == 0 { release.wait() }
                if i == 1 { secondStarted.signal() }
                return i
            },
            emit: { out.add($0) })
        for i in 0..<20 { try p.submit(i) }
        #expect(secondStarted.wait(timeout: .now() + 0.3) == .timedOut, "one worker, blocked on item 0")
        p.startHeldBackWorkers()
        p.startHeldBackWorkers()
        #expect(secondStarted.wait(timeout: .now() + 30) == .success, "the held-back worker took item 1")
        release.signal()
        try p.finish()
        p.startHeldBackWorkers()
        #expect(out.all == Array(0..<20))

        // One thread never holds its only worker back.
        let one = Collected()
        let single = OrderedPipeline<Int, Int>(threads: 1, holdBack: 3, work: { $0 }, emit: { one.add($0) })
        for i in 0..<10 { try single.submit(i) }
        try single.finish()
        #expect(one.all == Array(0..<10))
    }

    /// With no worker thread (the system refused them all), items are done on the caller's
    /// thread, in order, and a failed emit still stops the run.
    @Test func withoutWorkersTheCallerDoesTheWork() throws {
        let out = Collected()
        let p = OrderedPipeline<Int, Int>(
            threads: 4, window: 4, costBudget: 1 << 20, startWorkers: false, work: { $0 * 2 }, emit: { out.add($0) })
        for i in 0..<100 { try p.submit(i) }
        try p.finish()
        #expect(out.all == (0..<100).map { $0 * 2 })
        struct Full: Error {}
        let failing = OrderedPipeline<Int, Int>(
            threads: 1, window: nil, costBudget: 1 << 20, startWorkers: false, work: { $0 }, emit: { _ in throw Full() })
        #expect(throws: Full.self) { try failing.submit(1) }
        #expect(throws: Full.self) { try failing.finish() }
    }

    /// An absurd thread count is clamped, not overflowed (16 × Int.max) or honoured.
    @Test func hugeThreadCountsAreClamped() throws {
        let out = Collected()
        let p = OrderedPipeline<Int, Int>(threads: Int.max, work: { $0 }, emit: { out.add($0) })
        for i in 0..<10 { try p.submit(i) }
        try p.finish()
        #expect(out.all == Array(0..<10))
    }

    @Test func aFailedEmitStopsTheRun() {
        struct Full: Error {}
        let p = OrderedPipeline<Int, Int>(threads: 2, window: 4, work: { $0 }, emit: { _ in throw Full() })
        var thrown = false
        do {
            for i in 0..<1000 { try p.submit(i) }
        } catch { thrown = true }
        #expect(thrown, "submit rethrows once emit failed")
        #expect(throws: Full.self) { try p.finish() }
    }
}
