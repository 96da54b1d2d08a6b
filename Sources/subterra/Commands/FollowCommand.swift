import ArgumentParser
import Foundation
import SubterraPostGIS

/// `subterra follow`: a follower of a PostGIS store on the command line: loads the map, applies
/// every committed change as it comes and reports the lag (what `serve` does on such a store,
/// without the HTTP), for operators checking a replica and for the lag figures in NOTES.
struct FollowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "follow",
        abstract: "Follow a PostGIS store: load its map, apply each committed change as it comes, report the lag.",
        discussion: """
            Loads a snapshot of the store, then follows its change log: woken by NOTIFY on a primary, polling \
            (every 50 ms) on a streaming replica, which gets no NOTIFY. Prints a progress line on stderr every \
            --report-every seconds and, when --seconds have passed, a JSON summary on stdout: the snapshot's \
            version and load time, the versions applied, and each version's delay from its writer taking it to \
            the engine publishing it (p50, p99, max).

            Examples:
              subterra follow --store postgresql://reader@replica:5432/city --seconds 60
            """)

    @Option(name: .long, help: ArgumentHelp("The store: postgresql://user@host:port/database (a primary or a streaming replica).", valueName: "url"))
    var store: String

    @Option(name: .long, help: ArgumentHelp("Stop after this many seconds and print the summary (default: follow until interrupted).", valueName: "s"))
    var seconds: Double?

    @Option(name: .long, help: ArgumentHelp("Poll interval in milliseconds when no NOTIFY comes (the safety net on a primary).", valueName: "ms"))
    var pollMs: Int = 500

    @Option(name: .long, help: ArgumentHelp("Seconds between progress lines on stderr (0: none).", valueName: "s"))
    var reportEvery: Double = 1

    struct Summary: Codable {
        var store: String
        var replica: Bool
        var snapshotVersion: Int64
        var snapshotSegments: Int
        var snapshotLoadSeconds: Double
        /// Of the load: reading the rows, and building the engine (records checked as a map included).
        var snapshotReadSeconds: Double
        var engineBuildSeconds: Double
        var followedSeconds: Double
        var appliedThrough: Int64
        var versionsApplied: Int
        var transactions: Int
        var snapshotReloads: Int
        var delayP50Seconds: Double?
        var delayP99Seconds: Double?
        var delayMaxSeconds: Double?
        var maxLagVersions: Int64
        var maxLagSeconds: Double
        var lastError: String?
    }

    /// What the follower applied, gathered from its thread.
    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private var delays: [Double] = []
        private var versions = 0, transactions = 0, reloads = 0
        func add(_ a: PostGISFollower.Applied) {
            lock.withLock {
                if a.isSnapshot { reloads += 1; return }
                transactions += 1
                versions += a.versions.count
                for c in a.committedAt { delays.append(a.appliedAt.timeIntervalSince(c)) }
            }
        }
        var figures: (versions: Int, transactions: Int, reloads: Int, delays: [Double]) {
            lock.withLock { (versions, transactions, reloads, delays.sorted()) }
        }
    }

    func run() throws {
        try guarded {
            guard PostGISLocation.isURL(store) else { throw CLIError("--store must be a postgresql:// URL (a PostGIS store)") }
            let t0 = Date()
            let follower: PostGISFollower
            do { follower = try PostGISFollower(url: store, options: .init(pollInterval: .milliseconds(pollMs))) } catch {
                throw CLIError(error, context: "--store \(PostGISLocation.redacted(store))")
            }
            let loaded = Date().timeIntervalSince(t0)
            let first = follower.appliedVersion
            let tally = Tally()
            follower.onApply = { tally.add($0) }
            follower.start()
            let start = Date()
            var maxLag = (versions: Int64(0), seconds: 0.0)
            var lastReport = start
            while seconds.map({ Date().timeIntervalSince(start) < $0 }) ?? true {
                Thread.sleep(forTimeInterval: 0.05)
                let lag = follower.lag
                maxLag = (max(maxLag.versions, lag.versions), max(maxLag.seconds, lag.seconds))
                if reportEvery > 0, Date().timeIntervalSince(lastReport) >= reportEvery {
                    lastReport = Date()
                    StdErr.write("follow: applied \(lag.applied), head \(lag.head), lag \(lag.versions) versions, \(String(format: "%.3f", lag.seconds)) s\n")
                }
            }
            follower.stop()
            let f = tally.figures
            func pct(_ p: Double) -> Double? { f.delays.isEmpty ? nil : f.delays[min(f.delays.count - 1, Int((Double(f.delays.count) * p).rounded(.up)) - 1)] }
            let summary = Summary(
                store: PostGISLocation.redacted(store), replica: !follower.options.listen, snapshotVersion: first,
                snapshotSegments: follower.engine.segmentCount, snapshotLoadSeconds: loaded,
                snapshotReadSeconds: inSeconds(follower.firstLoad.read), engineBuildSeconds: inSeconds(follower.firstLoad.build),
                followedSeconds: Date().timeIntervalSince(start), appliedThrough: follower.appliedVersion,
                versionsApplied: f.versions, transactions: f.transactions, snapshotReloads: f.reloads,
                delayP50Seconds: pct(0.5), delayP99Seconds: pct(0.99), delayMaxSeconds: f.delays.last,
                maxLagVersions: maxLag.versions, maxLagSeconds: maxLag.seconds, lastError: follower.lastError)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
            return ExitStatus.ok
        }
    }
}

/// `d` in seconds, for the summary.
private func inSeconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}
