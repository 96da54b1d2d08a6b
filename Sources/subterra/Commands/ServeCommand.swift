import ArgumentParser
import Foundation
import SubterraAccess
import SubterraEngine
import SubterraPostGIS
import SubterraRequests
import SubterraService

/// `subterra serve`: the map as an HTTP service (see README "A service: subterra serve").
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the map over HTTP: queries, dig checks and batches, behind API keys or tokens, with an audit log.",
        discussion: """
            Reads the configuration file (JSON: listen, store, rules, limits, audit, digChecks, roles, users, contacts, \
            jwt, tls; unknown fields are refused), opens the store and answers at once (from the store's snapshot file \
            while the whole engine loads). Every route but /health and /metrics needs \
            'Authorization: Bearer <key or token>' or 'X-API-Key: <key>'; a user sees only what their roles grant. \
            SIGTERM or SIGINT stops it gracefully. Flags override the file. On a postgresql:// store \
            it follows the store (LISTEN/NOTIFY on a primary, a 50 ms poll on a replica) and /metrics \
            reports the lag (subterra_follow_lag_versions, subterra_follow_lag_seconds); \
            when a role may edit, edits are committed to the store with per-feature version checks \
            (a feature another server changed meanwhile answers 409).

            Examples:
              subterra serve hash-key --name ana --role planner
              subterra serve --config serve.json --store out/city.gpkg --listen 127.0.0.1:8080
            """,
        subcommands: [HashKeyCommand.self])

    // Optional to the parser, so `serve hash-key` needs none; `serve` itself refuses to run without it.
    @Option(name: .long, help: ArgumentHelp("The service configuration (JSON); required.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("The map (overrides the file's \"store\"): a .gpkg store or survey files.", valueName: "path"))
    var store: String?

    @Option(name: .long, help: ArgumentHelp("Field mapping (JSON) for survey files not in the sample's layout.", valueName: "file"))
    var mapping: String?

    @Option(name: .long, help: ArgumentHelp("Clearance rules (overrides the file's \"rules\").", valueName: "profile|file"))
    var rules: String?

    @Option(name: .long, help: ArgumentHelp("HOST:PORT to listen on (overrides the file's \"listen\").", valueName: "host:port"))
    var listen: String?

    @Option(name: .long, help: ArgumentHelp("TLS certificate chain (PEM); needs --tls-key.", valueName: "file"))
    var tlsCert: String?

    @Option(name: .long, help: ArgumentHelp("TLS private key (PEM); needs --tls-cert.", valueName: "file"))
    var tlsKey: String?

    func run() throws {
        try guarded {
            guard let config else { throw CLIError("--config is required (the service configuration, JSON)") }
            guard let data = FileManager.default.contents(atPath: config) else {
                throw CLIError("--config \(config): file does not exist or is unreadable")
            }
            var c: ServiceConfig
            do { c = try ServiceConfig.parse(data) } catch { throw CLIError("--config \(config): \((error as? ConfigError)?.message ?? "\(error)")") }
            if let store { c.store = store }
            if let rules { c.rules = rules }
            if let listen {
                do { c.listen = try ListenAddress(parsing: listen, field: "--listen") } catch { throw CLIError((error as? ConfigError)?.message ?? "\(error)") }
            }
            if tlsCert != nil || tlsKey != nil {
                guard let tlsCert, let tlsKey else { throw CLIError("--tls-cert and --tls-key go together") }
                c.tlsCert = tlsCert
                c.tlsKey = tlsKey
            }
            guard let path = c.store else { throw CLIError("no store: give --store or \"store\" in --config \(config)") }
            // Writable only when some role may edit: then edits over HTTP reach the store.
            let editors = c.roles.values.contains { !($0.edit ?? []).isEmpty }
            let map: any PipeMap
            if PostGISLocation.isURL(path) {
                // A city engine on the store of record: follows it, so every committed edit
                // reaches it (see PostGISFollower), and reports its lag in /metrics. With an
                // editing role it also commits edits there, checked against the rows it showed
                // the editor (see PostGISEditor), so several servers edit one store.
                let ruleSet = try StoreOpener.loadRules(c.rules)
                let follower: PostGISFollower
                do {
                    if editors {
                        let editor = try PostGISEditor(url: path, options: .init(rules: ruleSet))
                        editor.start()
                        follower = editor.follower
                        map = editor
                    } else {
                        follower = try PostGISFollower(url: path, options: .init(rules: ruleSet))
                        follower.start()
                        map = follower
                    }
                } catch {
                    throw CLIError(error, context: "--store \(PostGISLocation.redacted(path))")
                }
                ServiceMetrics.followLag { [follower] in
                    let lag = follower.lag
                    return (lag.versions, lag.seconds)
                }
            } else {
                map = try StoreOpener.open(path, mapping: mapping, rules: c.rules, writable: editors).batchMap().map
            }
            let settings = c
            // isolate and trace read the survey points on first use.
            let mappingPath = mapping
            let network = NetworkSource(load: { try StoreOpener.network(path, mapping: mappingPath) })
            let outcome = Outcome()
            let done = DispatchSemaphore(value: 0)
            Task {
                do { try await SubterraServer.serve(map: map, config: settings, network: network) } catch { outcome.set(error) }
                done.signal()
            }
            done.wait()
            if let e = outcome.error {
                if let ce = e as? ConfigError { throw CLIError("--config \(config): \(ce.message)") }
                throw CLIError("serve: \(e)")
            }
            return ExitStatus.ok
        }
    }

    /// The error the server stopped with, handed from its task to the command's thread.
    final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: (any Error)?
        var error: (any Error)? { lock.withLock { stored } }
        func set(_ e: any Error) { lock.withLock { stored = e } }
    }
}

/// `subterra serve hash-key`: a new API key and the `users` entry that stores its hash.
struct HashKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-key",
        abstract: "Print a new random API key (give it to the user) and its configuration entry (salted SHA-256; the key itself is not stored).")

    @Option(name: .long, help: ArgumentHelp("User name for the entry.", valueName: "name"))
    var name: String = "user"

    @Option(name: .long, help: ArgumentHelp("A role for the entry (repeatable).", valueName: "role"))
    var role: [String] = []

    func run() throws {
        let key = APIKey.generate()
        let roles = role.map { "\"\($0)\"" }.joined(separator: ", ")
        print("key: \(key)")
        print("entry for \"users\": {\"name\": \"\(name)\", \"keyHash\": \"\(APIKey.hash(key))\", \"roles\": [\(roles)]}")
    }
}
