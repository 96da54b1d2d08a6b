import ArgumentParser
import Foundation

/// `subterra`: what is buried here? Queries, dig checks and maps over a CJJ 61 utility survey.
///
/// Exit status: 0 answered; 1 `--fail-on-conflict` and the check found a conflict; 2 bad input
/// or an unreadable store, with one line on stderr saying what and where.
@main
struct Subterra: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subterra",
        abstract: "Exact nearest / intersect / within queries and dig-safety checks over underground utility surveys (CJJ 61).",
        discussion: """
            Every command reads a map with --store: a Subterra GeoPackage made by 'subterra import', or survey \
            files directly (a directory with segments.geojson / segments.csv, such as Datasets/sample). \
            Geometries are WKT, GeoJSON or @file, in any CRS (--crs EPSG:4326 for web-map lon/lat).

            Example:
              subterra import Datasets/sample --store out/city.gpkg
              subterra check-dig @Datasets/sample/dig-sites.geojson --feature 2 --store out/city.gpkg --map out/dig.svg

            Exit status: 0 answered, 1 conflict found with --fail-on-conflict, 2 error (one line on stderr).
            """,
        version: "0.1.0",
        subcommands: [
            ImportCommand.self, InfoCommand.self, NearestCommand.self, IntersectsCommand.self, WithinCommand.self,
            CheckDigCommand.self, CheckRouteCommand.self, SectionCommand.self, RenderCommand.self, QueryCommand.self,
            IsolateCommand.self, ValveSegmentsCommand.self, TraceCommand.self, ServeCommand.self, FollowCommand.self,
        ])

    /// Parses and runs, folding argument errors into one stderr line with status 2 (the
    /// library default prints usage over several lines and exits 64).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if error is ExitCode || exitCode(for: error) == .success { exit(withError: error) }
            StdErr.write("subterra: error: \(CLIError.oneLine(message(for: error))) (see 'subterra help')\n")
            Foundation.exit(ExitStatus.error)
        }
    }
}
