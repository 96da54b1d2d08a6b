import ArgumentParser
import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel

/// `subterra query --batch`: one JSON query per line in, one JSON answer per line out.
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Batch mode for services: one JSON query per input line, one JSON answer per output line, in order.",
        discussion: """
            Each non-blank input line is an object with "op" (nearest, intersects, within, check-dig, check-route, section), \
            "geometry" (WKT string or GeoJSON geometry object) and the op's fields: "crs", "k", "maxDistance", "perLayer", \
            "distance", "depth", "layers", "owners", "workType"; for check-route "layer", "subtype", "diameter", \
            "pressure", "voltage", "burial", "depthStart", "depthEnd", "surface". An "id" is echoed back. \
            Each answer is {"id":...,"line":N,"ok":true,"result":{...}} or {"id":...,"line":N,"ok":false,"error":"..."}: \
            a bad line gets an error answer on its own line and the run goes on. Blank lines are skipped. \
            The exit status is 0 when every line was answered (even with errors), 2 when the store or input cannot be read.

            Examples:
              echo '{"id":1,"op":"nearest","geometry":"POINT (636900 3140200)","k":2}' | subterra query --batch - --store Datasets/sample
              subterra query --batch queries.jsonl --store out/city.gpkg > answers.jsonl
            """)

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: ArgumentHelp("File of JSON queries, one per line, or - for stdin.", valueName: "file"))
    var batch: String

    @Option(name: .long, help: ArgumentHelp("Worker threads (default: active processor count).", valueName: "n"))
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp("Refuse query geometries with more vertices than this.", valueName: "n"))
    var maxVertices: Int = GeometryInput.defaultMaxVertices

    func run() throws {
        try guarded {
            let input: FileHandle
            if batch == "-" { input = FileHandle.standardInput } else {
                guard FileManager.default.fileExists(atPath: batch), let h = FileHandle(forReadingAtPath: batch) else {
                    throw CLIError("--batch \(batch): file does not exist or is unreadable")
                }
                input = h
            }
            let opened = try store.open()
            let runner = BatchRunner(engine: opened.engine, maxVertices: maxVertices)
            let out = StdOut()
            let workers = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
            var lineNo = 0
            var pending: [(Int, String)] = []
            func drain() {
                guard !pending.isEmpty else { return }
                var answers = [String](repeating: "", count: pending.count)
                let jobs = pending
                answers.withUnsafeMutableBufferPointer { buf in
                    guard let base = buf.baseAddress else { return }
                    let chunk = (jobs.count + workers - 1) / workers
                    // Each worker writes only its own slots, so the buffer needs no lock.
                    nonisolated(unsafe) let slots = base
                    DispatchQueue.concurrentPerform(iterations: workers) { w in
                        let lo = w * chunk, hi = min(jobs.count, lo + chunk)
                        guard lo < hi else { return }
                        for j in lo..<hi { slots[j] = runner.answer(jobs[j].1, line: jobs[j].0) }
                    }
                }
                for a in answers { out.line(a) }
                out.flush()
                pending.removeAll(keepingCapacity: true)
            }
            var carry = Data()
            while true {
                let data = input.readData(ofLength: 1 << 20)
                if data.isEmpty { break }
                carry.append(data)
                // Lines are cut by index and the consumed prefix dropped once per chunk: removing
                // each line from the front would copy the rest of the buffer per line.
                var start = carry.startIndex
                while let nl = carry[start...].firstIndex(of: 0x0A) {
                    lineNo += 1
                    let line = String(decoding: carry[start..<nl], as: UTF8.self)
                    start = nl + 1
                    if !line.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { pending.append((lineNo, line)) }
                    if pending.count >= 4096 { drain() }
                }
                carry = Data(carry[start...])
            }
            if !carry.isEmpty {
                lineNo += 1
                let line = String(decoding: carry, as: UTF8.self)
                if !line.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { pending.append((lineNo, line)) }
            }
            drain()
            return ExitStatus.ok
        }
    }
}

/// Answers one batch line. Stateless apart from the shared (Sendable) engine, so lines run on
/// any thread.
struct BatchRunner: Sendable {
    let engine: UtilityEngine
    let maxVertices: Int

    struct HitsResult: Encodable {
        var count: Int
        var hits: [HitRow]
    }

    func answer(_ line: String, line number: Int) -> String {
        var idJSON = "null"
        do {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw CLIError("not a JSON object")
            }
            if let id = obj["id"], let d = try? JSONSerialization.data(withJSONObject: id, options: [.fragmentsAllowed]) {
                idJSON = String(decoding: d, as: UTF8.self)
            }
            let result = try run(obj)
            return "{\"id\":\(idJSON),\"line\":\(number),\"ok\":true,\"result\":\(result)}"
        } catch {
            let message = GeoJSON.write(JSONValue.string(CLIError(error).description))
            return "{\"id\":\(idJSON),\"line\":\(number),\"ok\":false,\"error\":\(message)}"
        }
    }

    func run(_ q: [String: Any]) throws -> String {
        guard let op = q["op"] as? String else { throw CLIError("field op is missing (nearest, intersects, within, check-dig, check-route, section)") }
        let g = try geometry(q)
        let filter = try self.filter(q)
        let enc = JSONOut.encoder(pretty: false)
        func hits(_ h: [PipeHit]) throws -> String {
            String(decoding: try enc.encode(HitsResult(count: h.count, hits: h.map(HitRow.init))), as: UTF8.self)
        }
        switch op {
        case "nearest":
            let k = try int(q, "k") ?? 1
            let maxD = try number(q, "maxDistance") ?? .infinity
            return try hits(engine.nearest(
                to: g.geometry, crs: g.crs, k: k, maxDistance: maxD, perLayer: q["perLayer"] as? Bool ?? false, filter: filter))
        case "intersects":
            return try hits(engine.intersecting(g.geometry, crs: g.crs, filter: filter))
        case "within":
            guard let d = try number(q, "distance") else { throw CLIError("field distance is missing (metres)") }
            return try hits(engine.within(distance: d, of: g.geometry, crs: g.crs, filter: filter))
        case "check-dig":
            guard let d = try number(q, "depth") else { throw CLIError("field depth is missing (metres)") }
            let r = try engine.digCheck(DigRequest(area: g.geometry, crs: g.crs, plannedDepth: d, workType: q["workType"] as? String))
            return String(decoding: try enc.encode(r), as: UTF8.self)
        case "section":
            guard case .lineString(let l) = g.geometry else { throw CLIError("field geometry: a cut line must be a LINESTRING") }
            return String(decoding: try enc.encode(engine.crossSection(along: l, crs: g.crs, filter: filter)), as: UTF8.self)
        case "check-route":
            guard case .lineString(let l) = g.geometry else { throw CLIError("field geometry: a route must be a LINESTRING") }
            guard let layer = q["layer"] as? String else { throw CLIError("field layer is missing (planned pipe's layer code)") }
            let depth = try number(q, "depth")
            guard let d0 = try number(q, "depthStart") ?? depth, let d1 = try number(q, "depthEnd") ?? depth else {
                throw CLIError("field depth is missing (metres)")
            }
            var pc: GasPressureClass?
            if let p = try number(q, "pressure") {
                guard let c = GasPressureClass(megapascals: p) else { throw CLIError("field pressure: \(p) MPa is outside 0...4.0") }
                pc = c
            }
            var surface = SurfaceKind.carriageway
            if let s = q["surface"] as? String {
                guard let k = SurfaceKind(rawValue: s) else { throw CLIError("field surface: '\(s)' is not sidewalk or carriageway") }
                surface = k
            }
            let profile = PipeProfile(
                layer: LayerCode(rawValue: layer.uppercased()), subtype: (q["subtype"] as? String).map { SubtypeCode(rawValue: $0) },
                pressureClass: pc, burial: (q["burial"] as? String).map { BurialMethod(rawValue: $0) },
                diameterMM: try number(q, "diameter"), voltageKV: try number(q, "voltage"))
            let r = try engine.routeCheck(PlannedPipe(profile: profile, route: l, crs: g.crs, depthAtStart: d0, depthAtEnd: d1, surface: surface))
            return String(decoding: try enc.encode(r), as: UTF8.self)
        default:
            throw CLIError("field op: unknown operation '\(op)' (nearest, intersects, within, check-dig, check-route, section)")
        }
    }

    func geometry(_ q: [String: Any]) throws -> InputGeometry {
        let crs = q["crs"] as? String
        switch q["geometry"] {
        case let s as String:
            return try GeometryInput.parse(s, crs: crs, feature: nil, maxVertices: maxVertices, option: "field geometry")
        case let o as [String: Any]:
            let d = try JSONSerialization.data(withJSONObject: o)
            return try GeometryInput.parse(String(decoding: d, as: UTF8.self), crs: crs, feature: nil, maxVertices: maxVertices, option: "field geometry")
        case nil: throw CLIError("field geometry is missing (WKT string or GeoJSON geometry)")
        default: throw CLIError("field geometry must be a WKT string or a GeoJSON object")
        }
    }

    func filter(_ q: [String: Any]) throws -> PipeFilter {
        func strings(_ k: String) throws -> [String]? {
            switch q[k] {
            case nil: return nil
            case let s as String: return [s]
            case let a as [Any]:
                guard let ss = a as? [String] else { throw CLIError("field \(k) must be a list of strings") }
                return ss
            default: throw CLIError("field \(k) must be a string or a list of strings")
            }
        }
        let layers = try strings("layers")?.map { LayerCode(rawValue: $0.uppercased()) }
        return PipeFilter(layers: layers.map(Set.init), owners: try strings("owners").map(Set.init))
    }

    func number(_ q: [String: Any], _ k: String) throws -> Double? {
        switch q[k] {
        case nil, is NSNull: return nil
        case let n as NSNumber:
            guard let v = Double(exactly: n.doubleValue), v.isFinite else { throw CLIError("field \(k) must be a finite number") }
            return v
        default: throw CLIError("field \(k) must be a number")
        }
    }

    func int(_ q: [String: Any], _ k: String) throws -> Int? {
        guard let v = try number(q, k) else { return nil }
        guard v == v.rounded(), abs(v) < 1e9 else { throw CLIError("field \(k) must be an integer") }
        return Int(v)
    }
}
