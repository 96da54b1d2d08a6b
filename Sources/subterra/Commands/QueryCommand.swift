import ArgumentParser
import Foundation
import SubterraEngine
import SubterraNetwork
import SubterraRequests

/// `subterra query --batch`: one JSON query per line in, one JSON answer per line out.
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Batch mode for services: one JSON query per input line, one JSON answer per output line, in order.",
        discussion: """
            Each non-blank input line is an object with "op" (nearest, intersects, within, check-dig, check-route, section, \
            isolate, trace, valve-segments), \
            "geometry" (WKT string or GeoJSON geometry object) and the op's fields: "crs", "k", "maxDistance", "perLayer", \
            "distance", "depth", "layers", "subtypes", "owners", "workType"; for check-route "layer", "subtype", "diameter", \
            "pressure", "voltage", "burial", "depthStart", "depthEnd", "surface". \
            The network ops need no geometry: "isolate" ("layer" JS/RQ/RL, "target" a pipe id or point number, or a POINT \
            "geometry" with "maxDistance"; "pressureClass", "tolerance"), "trace" ("direction" upstream/downstream, "from" \
            manholes or pipe ids, "layer" default PS) and "valve-segments" ("layer", "top"); their results are what \
            isolate, trace and valve-segments print with --json. An "id" is echoed back. \
            Any other field is refused, and so is a layer, sub-type or owner the map does not know. The geometry is the data itself: a geometry starting with "@" is refused, \
            since batch lines never name files. \
            Each answer is {"id":...,"line":N,"ok":true,"result":{...}} or {"id":...,"line":N,"ok":false,"error":"..."}: \
            a bad line (also one over a limit: --max-line-bytes, --max-geometry-bytes, --max-vertices, --max-depth) gets \
            an error answer on its own line and the run goes on. Blank lines are skipped. Answers are written and flushed \
            in input order as soon as each and all before it are computed. \
            On a store, the first answers come from its snapshot file while the whole map loads on another thread; \
            until it has loaded, the workers that would leave that load no core of its own wait (--threads 2 on 2 cores: one). \
            The exit status is 0 when every line was answered (even with errors), 2 when the store or input cannot be read \
            (a directory or a device other than a terminal is refused; a FIFO works).

            Examples:
              echo '{"id":1,"op":"nearest","geometry":"POINT (636900 3140200)","k":2}' | subterra query --batch - --store Datasets/sample
              echo '{"op":"isolate","layer":"JS","target":"JS000123"}' | subterra query --batch - --store Datasets/sample
              subterra query --batch queries.jsonl --store out/city.gpkg > answers.jsonl
            """)

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: ArgumentHelp("File of JSON queries, one per line: a file, a FIFO, or - for stdin.", valueName: "file"))
    var batch: String

    @Option(name: .long, help: ArgumentHelp("Worker threads (default: active processor count).", valueName: "n"))
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp("Answer lines longer than this many bytes with an error, unread (default 16 MiB).", valueName: "bytes"))
    var maxLineBytes: Int = RequestLimits.default.maxLineBytes

    @OptionGroup var limits: GeometryLimitOptions

    func run() throws {
        try guarded {
            let limits = try self.limits.limits(maxLineBytes: maxLineBytes)
            if let threads, !(1...OrderedPipeline<Int, Int>.maxThreads).contains(threads) {
                throw CLIError("--threads \(threads): must be from 1 to \(OrderedPipeline<Int, Int>.maxThreads)")
            }
            let input = batch == "-"
                ? try InputFile.standardInput(label: "--batch -") : try InputFile.open(batch, label: "--batch \(batch)")
            defer { input.close() }
            let (map, warming) = try store.open().batchMap()
            // isolate, trace and valve-segments lines need the survey points: read on first use.
            let path = store.store
            let mapping = store.mapping
            let network = NetworkSource(load: { try StoreOpener.network(path, mapping: mapping) })
            let runner = RequestRunner(engine: map, limits: limits, network: network)
            let cores = ProcessInfo.processInfo.activeProcessorCount
            let workers = threads ?? cores
            // While the whole engine loads in the background, the load has a core of its own:
            // the workers that would leave it none start once it has finished.
            let loading = warming.map { !$0.isSettled } ?? false
            let pipeline = OrderedPipeline<LineReader.Event, String>(
                threads: workers, holdBack: loading ? workers + 1 - cores : 0,
                work: { event in
                    switch event {
                    case .line(let number, let bytes): runner.answer(line: String(decoding: bytes, as: UTF8.self), number: number)
                    case .tooLong(let number): RequestRunner.lineTooLong(number: number, limit: limits.maxLineBytes)
                    }
                },
                emit: { answers in try StdOut.write(lines: answers) })
            warming?.whenSettled { pipeline.startHeldBackWorkers() }
            do {
                try LineReader(input: input, maxLineBytes: limits.maxLineBytes).forEach { event in
                    if case .line(_, let bytes) = event { try pipeline.submit(event, cost: bytes.count) } else { try pipeline.submit(event) }
                }
            } catch {
                // What was read is answered and written before the reason is reported.
                try pipeline.finish()
                throw error
            }
            try pipeline.finish()
            return ExitStatus.ok
        }
    }
}
