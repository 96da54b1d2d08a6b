import ArgumentParser
import Foundation
import SubterraModel
import SubterraNetwork

/// `subterra valve-segments`: planning figures — every pipe's valve segment, the worst segments,
/// and what each valve costs if it will not close.
struct ValveSegmentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "valve-segments",
        abstract: "The valve segments of a layer (what closing the valves around each pipe isolates) and each valve's criticality.",
        discussion: """
            A segment is what a break on one of its pipes isolates: the pipes joined without crossing a valve that \
            can be closed (open or status unknown), a closed valve or a source. Inoperable and inaccessible valves \
            cannot be closed, so they bound nothing. A segment's customers are the service connections inside it. \
            A valve's criticality is what fails with it: the segments on its sides merge; 'extra' is the merge less \
            its smallest side (per figure), the worst case over where the break was. Segments are listed with the \
            most customers first, valves with the most extra customers first.

            Examples:
              subterra valve-segments --layer JS --store Datasets/sample
              subterra valve-segments --layer RQ --pressure-class mediumB --store city.gpkg --json
            """)

    @OptionGroup var network: PressurisedNetworkOptions

    @Option(name: .long, help: ArgumentHelp("Rows per table (default 20 in text, all in JSON).", valueName: "n"))
    var top: Int?

    @Flag(name: .long, help: "Print segments and valves as JSON.")
    var json = false

    func run() throws {
        try guarded {
            if let top, top < 1 { throw CLIError("--top \(top): must be at least 1") }
            let (_, topology) = try network.open()
            let tolerance = topology.tolerance
            let segments = ValveSegments(topology)
            if json {
                print(try JSONOut.string(ValveSegmentsReport(segments, top: top ?? Int.max)))
            } else {
                let summaries = segments.summariesWorstFirst()
                let valves = segments.criticality()
                print(Self.text(segments, summaries: summaries, valves: valves, top: top ?? 20, tolerance: tolerance))
            }
            return ExitStatus.ok
        }
    }

    static func customers(_ tallies: [CustomerTally]) -> String {
        tallies.isEmpty ? "-" : tallies.map { "\($0.customers) \($0.category.rawValue)" }.joined(separator: ", ")
    }

    /// Up to 4 numbers, then how many more (the JSON form lists them all).
    static func list(_ numbers: [PointNumber]) -> String {
        let shown = numbers.prefix(4).map(\.rawValue).joined(separator: " ")
        return numbers.count > 4 ? shown + " +\(numbers.count - 4) more" : shown
    }

    /// The tables for people.
    static func text(
        _ vs: ValveSegments, summaries: [SegmentSummary], valves: [ValveCriticality], top: Int, tolerance: Double
    ) -> String {
        let t = vs.topology
        var out: [String] = []
        out.append("Valve segments of layer \(t.scope), snapping tolerance \(Fmt.m(tolerance)) m: \(vs.segmentCount) segments over \(t.edgeCount) pipes")
        if vs.boundaryConnections > 0 {
            out.append("(\(vs.boundaryConnections) service connections sit on a valve or source node and count in no segment)")
        }
        out.append("")
        out.append("Segments, most customers first" + (summaries.count > top ? " (top \(top) of \(summaries.count))" : "") + ":")
        var table = TextTable(["segment", "pipes", "length m", "volume m³", "valves to close", "closed", "customers"], numeric: [0, 1, 2, 3])
        for s in summaries.prefix(top) {
            var valves = list(s.valvesToClose)
            if !s.sourcesToShut.isEmpty { valves += (s.valvesToClose.isEmpty ? "" : "; ") + "shut " + list(s.sourcesToShut) }
            table.add([
                String(s.segment), String(s.pipes), Fmt.m(s.length), Fmt.m(s.volume), valves.isEmpty ? "-" : valves,
                s.closedValves.isEmpty ? "-" : list(s.closedValves), customers(s.customers),
            ])
        }
        out.append(table.render())
        out.append("")
        if valves.isEmpty {
            out.append("No valve that can be closed.")
        } else {
            out.append("If a valve will not close, most extra customers first" + (valves.count > top ? " (top \(top) of \(valves.count))" : "") + ":")
            var vt = TextTable(
                ["valve", "status", "sides", "extra pipes", "extra m", "extra customers", "merged customers", "length ×"],
                numeric: [3, 4, 5, 7])
            for v in valves.prefix(top) {
                vt.add([
                    v.valve.rawValue, v.status?.rawValue ?? "unknown", v.sides.map(String.init).joined(separator: " "),
                    String(v.extraPipes), Fmt.m(v.extraLength), String(v.extraCustomers), customers(v.mergedCustomers),
                    String(format: "%.2f", 1 + v.lengthIncrease),
                ])
            }
            out.append(vt.render())
        }
        return out.joined(separator: "\n")
    }
}
