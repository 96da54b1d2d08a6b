import ArgumentParser
import Foundation
import SubterraGeometry
import SubterraModel
import SubterraNetwork

/// `subterra isolate`: which valves to close when a main bursts, what they isolate, who loses
/// supply, and what each valve that will not turn costs.
struct IsolateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "isolate",
        abstract: "Valves to close for a burst main, the pipes they isolate and the customers cut off.",
        discussion: """
            The break is a pipe (its segment id or source id), a survey point (its number: a fitting or valve that \
            broke), or a map position 'x,y' (the nearest pipe of the layer within --max-distance). Open valves are \
            closed; closed ones are barriers needing no action; inoperable and inaccessible ones are passed, so the \
            next ring closes instead. Valves of unknown status are taken as open and listed to check on site. \
            Customers cut off are every service connection the working sources no longer reach, hospitals first, \
            including those already behind closed valves.

            Examples:
              subterra isolate 1234 --layer JS --store city.gpkg
              subterra isolate 636700.5,3140190.2 --layer JS --store Datasets/sample --svg out/isolation.svg
              subterra isolate JS000123 --layer RQ --pressure-class mediumB --store city.gpkg --json
            """)

    @Argument(help: ArgumentHelp("The break: a pipe id, a point number, or map coordinates 'x,y'.", valueName: "POINT|PIPE-ID"))
    var target: String

    @OptionGroup var network: PressurisedNetworkOptions

    @Option(name: .long, help: ArgumentHelp("For an 'x,y' break: the farthest the nearest pipe may be, metres.", valueName: "m"))
    var maxDistance: Double = 5

    @Flag(name: .long, help: "Print the plan as JSON.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Also draw the plan as an SVG map into this file.", valueName: "out.svg"))
    var svg: String?

    func run() throws {
        try guarded {
            let file = try svg.map { try OutputFile($0, option: "--svg", inputs: self.network.store.inputs) }
            let (network, topology) = try self.network.open()
            let tolerance = topology.tolerance
            let (location, said) = try Self.locate(target, in: topology, network: network, maxDistance: maxDistance)
            let plan: IsolationPlan
            do { plan = try IsolationPlan(topology: topology, break: location) } catch let e as NetworkError { throw CLIError("\(target): \(e.message)") }
            if json {
                print(try JSONOut.string(plan))
            } else {
                print(Self.text(plan, said: said, tolerance: tolerance))
                print("\nNetwork checks (\(topology.scope)): " + NetworkQualityReport(topology).summary)
            }
            if let file {
                try file.write(IsolationSVG.draw(plan, topology: topology, location: location, title: said))
                if !json { print("map written to \(svg!)") }
            }
            return ExitStatus.ok
        }
    }

    /// The break `target` names, and words for it (``NetworkTopology/locateBreak(_:maxDistance:segmentOutside:)``).
    static func locate(
        _ target: String, in t: NetworkTopology, network: UtilityNetwork, maxDistance: Double
    ) throws -> (BreakLocation, String) {
        do {
            return try t.locateBreak(target, maxDistance: maxDistance) { network.segment(id: $0) }
        } catch { throw CLIError("\(error)") }
    }

    /// The plan for people.
    static func text(_ p: IsolationPlan, said: String, tolerance: Double) -> String {
        var out: [String] = []
        func valves(_ vs: [IsolationValve]) -> String {
            vs.map { "\($0.number) (\($0.status?.rawValue ?? "status unknown"))" }.joined(separator: ", ")
        }
        out.append("Isolation of \(said), layer \(p.scope), snapping tolerance \(Fmt.m(tolerance)) m")
        out.append("")
        if p.valvesToClose.isEmpty {
            out.append("Valves to close: none")
        } else {
            out.append("Valves to close (\(p.valvesToClose.count)):")
            for v in p.valvesToClose {
                let note = v.status == nil ? "  status unknown: check on site" : ""
                out.append("  \(v.number)  at \(Fmt.coord(v.position[0])), \(Fmt.coord(v.position[1]))\(note)")
            }
        }
        if !p.closedBarriers.isEmpty { out.append("Already closed (no action): \(valves(p.closedBarriers))") }
        if !p.passedValves.isEmpty { out.append("Cannot be closed, passed: \(valves(p.passedValves))") }
        if !p.sourcesToShut.isEmpty {
            out.append("Sources to shut: \(p.sourcesToShut.map(\.rawValue).joined(separator: ", "))")
        }
        let noSection = p.pipesWithoutSection == 0 ? "" : " (\(p.pipesWithoutSection) without a section, not in the volume)"
        out.append("")
        out.append("Isolated: \(p.isolatedPipes.count) pipe\(p.isolatedPipes.count == 1 ? "" : "s"), \(Fmt.m(p.isolatedLength)) m, \(Fmt.m(p.isolatedVolume)) m³\(noSection)")
        out.append("  pipes: " + p.isolatedPipes.map(\.displayID).joined(separator: ", "))
        out.append("")
        if p.sourcesInComponent == 0 {
            out.append("No source (plant, regulator or pumping station) in this part of the network: every connection in it counts as cut off.")
        }
        if p.cutOffConnections.isEmpty {
            out.append("Customers cut off: none")
        } else {
            let already = p.cutOffConnections.filter(\.alreadyWithoutSupply)
            out.append("Customers cut off: \(p.customersCutOffTotal)" + (already.isEmpty ? "" : " (\(already.reduce(0) { $0 + $1.count }) of them already without supply before the break)"))
            for c in p.customersCutOff {
                out.append("  \(c.category.rawValue): \(c.customers) at \(c.connections) connection\(c.connections == 1 ? "" : "s")")
            }
            out.append("  notify, in order:")
            for c in p.cutOffConnections {
                out.append("    \(c.number)  \(c.category.rawValue) × \(c.count)\(c.alreadyWithoutSupply ? "  (already without supply)" : "")")
            }
        }
        if !p.failures.isEmpty {
            out.append("")
            out.append("If a valve will not turn:")
            for f in p.failures {
                if f.nextRing.isEmpty && f.extraSourcesToShut.isEmpty && f.extraPipes.isEmpty && f.extraConnections.isEmpty {
                    out.append("  \(f.valve): nothing more (what lies beyond it is isolated already)")
                    continue
                }
                var what: [String] = []
                what.append(f.nextRing.isEmpty ? "no further valve" : "close \(f.nextRing.map(\.number.rawValue).joined(separator: ", ")) instead")
                if !f.extraSourcesToShut.isEmpty { what.append("shut \(f.extraSourcesToShut.map(\.rawValue).joined(separator: ", "))") }
                what.append("+\(f.extraPipes.count) pipes (\(Fmt.m(f.extraLength)) m)")
                let customers = f.extraCustomers.map { "\($0.customers) \($0.category.rawValue)" }
                what.append(customers.isEmpty ? "no more customers" : "+" + customers.joined(separator: ", +"))
                out.append("  \(f.valve): " + what.joined(separator: "; "))
            }
        }
        return out.joined(separator: "\n")
    }
}

/// The pressurised network a command works on: `--layer` (JS, RQ, RL), the map, and for gas
/// `--pressure-class`, with the snapping `--tolerance`.
struct PressurisedNetworkOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The network: JS water, RQ gas, RL heat.", valueName: "code"))
    var layer: String

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: ArgumentHelp("Gas only: just this pressure system (low, mediumB, mediumA, subHighB, subHighA, highB, highA).", valueName: "class"))
    var pressureClass: String?

    @Option(name: .long, help: ArgumentHelp("Snapping tolerance in metres: pipe ends this close meet, points this close to an end sit on it.", valueName: "m"))
    var tolerance: Double = 0.05

    static let layers: [LayerCode] = [.water, .gas, .heat]

    /// The scope the options name, checked before the map is read.
    func scope() throws -> NetworkTopology.Scope {
        let code = LayerCode(layer.uppercased())
        guard Self.layers.contains(code) else {
            throw CLIError("--layer \(layer): valve isolation is for pressurised networks: JS, RQ or RL")
        }
        var pressure: GasPressureClass?
        if let p = pressureClass {
            guard code == .gas else { throw CLIError("--pressure-class applies to gas (--layer RQ) only") }
            guard let c = GasPressureClass(rawValue: p) else {
                throw CLIError("--pressure-class \(p): not one of \(GasPressureClass.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            pressure = c
        }
        return .init(layer: code, gasPressureClass: pressure)
    }

    /// Reads the map and builds the topology of the scope; build errors become command errors.
    func open() throws -> (UtilityNetwork, NetworkTopology) {
        let scope = try scope()
        let network = try StoreOpener.network(store.store, mapping: store.mapping)
        do {
            return (network, try NetworkTopology(network: network, scope: scope, tolerance: tolerance))
        } catch { throw CLIError("--layer \(scope.layer): \(error.message)") }
    }
}
