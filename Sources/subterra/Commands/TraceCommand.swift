import ArgumentParser
import Foundation
import SubterraGeometry
import SubterraModel
import SubterraNetwork

/// `subterra trace upstream|downstream`: what drains to a flooded manhole, and where its water goes.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Trace a gravity drainage network upstream (catchment) or downstream (path to outfalls) by invert.",
        discussion: """
            Starts are manhole point numbers or pipe ids; several flooded manholes give the union of their traces. \
            Flow directions come from the pipes' inverts (surveyed bottoms, or tops less the section height); a pipe \
            whose inverts are missing or equal is indeterminate: it is listed, not followed, so the trace may go on \
            beyond it. Downstream traces stop at outfalls and pumping stations.

            Examples:
              subterra trace downstream PS000123 --store city.gpkg
              subterra trace upstream PS000123 PS000140 --store Datasets/sample --json
            """)

    @Argument(help: "upstream or downstream.")
    var direction: String

    @Argument(help: ArgumentHelp("Flooded manholes (point numbers) or pipe ids.", valueName: "FROM"))
    var starts: [String]

    @Option(name: .long, help: ArgumentHelp("The gravity network's layer (default PS drainage).", valueName: "code"))
    var layer: String = "PS"

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: ArgumentHelp("Snapping tolerance in metres.", valueName: "m"))
    var tolerance: Double = 0.05

    @Flag(name: .long, help: "Print the trace as JSON.")
    var json = false

    func run() throws {
        try guarded {
            guard let dir = TraceDirection(rawValue: direction.lowercased()) else {
                throw CLIError("trace \(direction): say upstream or downstream")
            }
            guard !starts.isEmpty else { throw CLIError("trace: name at least one manhole or pipe") }
            let network = try StoreOpener.network(store.store, mapping: store.mapping)
            let code = LayerCode(layer.uppercased())
            let t: NetworkTopology
            do { t = try NetworkTopology(network: network, scope: .init(layer: code), tolerance: tolerance) } catch let e as NetworkError {
                throw CLIError("--layer \(code): \(e.message)")
            }
            var from: [DrainageTrace.Start] = []
            for s in starts {
                do { from.append(try t.locateTraceStart(s)) } catch { throw CLIError("\(error)") }
            }
            let trace = try DrainageTrace(topology: t, from: from, direction: dir)
            if json {
                print(try JSONOut.string(trace))
                return ExitStatus.ok
            }
            print("\(dir.rawValue.capitalized) of \(starts.joined(separator: ", ")), layer \(code): \(trace.pipes.count) pipes, \(Fmt.m(trace.length)) m")
            print("  pipes: " + (trace.pipes.isEmpty ? "none" : trace.pipes.map(\.displayID).joined(separator: ", ")))
            print("  points: " + trace.points.map(\.rawValue).joined(separator: ", "))
            if !trace.terminals.isEmpty { print("  outfalls and pumping stations reached: " + trace.terminals.map(\.rawValue).joined(separator: ", ")) }
            if !trace.indeterminatePipes.isEmpty {
                print("  flow indeterminate (inverts missing or equal), not followed: " + trace.indeterminatePipes.map(String.init).joined(separator: ", "))
            }
            return ExitStatus.ok
        }
    }
}
