import Foundation
import PostgresNIO
import SubterraDatasets
import SubterraEngine
import SubterraGeometry
import SubterraModel
import Testing
@testable import SubterraPostGIS

private let sampleDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Datasets/sample").path

@Suite("Follower batches")
struct FollowerGroupingTests {
    private func v(_ n: Int64, _ keys: String...) -> ChangeBatch.Version {
        .init(version: n, at: Date(), touched: keys.map { .init(kind: "segment", key: $0) })
    }

    @Test func anEditTakesEachFeatureOnceAsTheHeadHasIt() throws {
        let network = try DistrictReader.readGeoJSON(directory: sampleDir)
        var batch = ChangeBatch(head: 3, versions: [v(1, "1", "2"), v(2, "1"), v(3, "3")])
        batch.segments[1] = network.segments[0]
        let edit = PostGISFollower.edit(for: batch.versions![0..<2], batch)
        #expect(edit.upsertSegments.map(\.id) == [network.segments[0].id])
        #expect(edit.deleteSegments == [2])
    }
}

@Suite("PostGIS follower", .enabled(if: PG.primary != nil, PG.skipReason))
struct PostGISFollowerTests {
    /// The store's map, sorted, for comparing with an engine's.
    static func sorted(_ n: UtilityNetwork) -> ([PipeSegment], [FeaturePoint]) {
        (n.segments.sorted { $0.id < $1.id }, n.points.sorted { $0.number.rawValue < $1.number.rawValue })
    }

    /// Every applied transaction, in order.
    final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [PostGISFollower.Applied] = []
        func add(_ a: PostGISFollower.Applied) { lock.withLock { items.append(a) } }
        var all: [PostGISFollower.Applied] { lock.withLock { items } }
        /// The versions applied from the log (not snapshots), in order.
        var versions: [Int64] { all.filter { !$0.isSnapshot }.flatMap(\.versions) }
    }

    /// A random edit of the store: update (moved half a metre, road renamed), insert (a copy of
    /// a pipe under a new id, moved) or delete, through optimistic commits. Returns the version.
    static func randomEdit(_ pg: PostGISStore, _ rng: inout SplitMix64, nextID: inout Int64) throws -> Int64 {
        let ids = try PG.sql(pg.location.description, "SELECT id::text FROM subterra_segments ORDER BY id").compactMap { $0[0].flatMap { Int64($0) } }
        let pick = ids[Int(rng.next() % UInt64(ids.count))]
        let current = try #require(try pg.segment(id: pick))
        func moved(_ s: PipeSegment, by d: Double) throws -> PipeSegment {
            var s = s
            s.geometry = try LineString(s.geometry.points.map { var p = $0; p.x += d; p.y -= d / 2; return p })
            return s
        }
        switch rng.next() % 3 {
        case 0:
            var s = try moved(current.record, by: 0.5)
            s.road = "Road \(rng.next() % 1000)"
            return try pg.commit([.updateSegment(s, expectedVersion: current.version)])
        case 1:
            var s = try moved(current.record, by: 3)
            s.id = nextID
            s.feature = nil
            s.part = nil
            s.sourceID = nil
            nextID += 1
            return try pg.commit([.insertSegment(s)])
        default:
            return try pg.commit([.deleteSegment(id: pick, expectedVersion: current.version)])
        }
    }

    /// The follower's within-distance answers equal a freshly loaded engine's and PostGIS's
    /// `ST_DWithin` on `count` random probes.
    static func expectSameAnswers(_ follower: PostGISFollower, _ pg: PostGISStore, _ rng: inout SplitMix64, count: Int, _ note: String) throws {
        let fresh = try UtilityEngine(store: pg)
        let e = fresh.network.segments.reduce(Envelope.empty) { $0.union($1.geometry.envelope) }
        for probe in 0..<count {
            let x = e.minX + (e.maxX - e.minX) * rng.unit(), y = e.minY + (e.maxY - e.minY) * rng.unit()
            let d = 5 + 60 * rng.unit()
            let mine = Set(try follower.engine.within(distance: d, of: .point(Point(x, y)), allParts: true).map { $0.pipe.id })
            let theirsEngine = Set(try fresh.within(distance: d, of: .point(Point(x, y)), allParts: true).map { $0.pipe.id })
            let theirs = try PG.dwithinIDs(pg.location.description, x: x, y: y, d: d)
            #expect(mine == theirsEngine, "\(note), probe \(probe): follower vs fresh engine")
            #expect(mine == theirs, "\(note), probe \(probe) at (\(x), \(y)) within \(d) m: follower vs ST_DWithin")
        }
        let (a, b) = sorted(follower.engine.network), (c, d) = sorted(try pg.loadAll())
        #expect(a == c && b == d, "\(note): the follower's map is the store's")
    }

    static func loadSample(_ url: String, segments: Int = 3000) throws -> PostGISStore {
        let network = try DistrictReader.readGeoJSON(directory: sampleDir)
        let pg = try PostGISStore.open(url)
        try pg.apply(StoreEdit(upsertSegments: Array(network.segments.prefix(segments)), upsertPoints: network.points))
        return pg
    }

    @Test func afterEveryRandomEditTheFollowerAnswersAsAFreshEngineAndSTDWithin() throws {
        let url = try PG.freshDatabase("follow")
        let pg = try Self.loadSample(url, segments: 800)
        let follower = try PostGISFollower(url: url)
        let log = Log()
        follower.onApply = { log.add($0) }
        follower.start()
        defer { follower.stop() }
        let start = follower.appliedVersion
        #expect(start == 1)
        var rng = SplitMix64(seed: 1717)
        var nextID: Int64 = 1_000_000
        for step in 0..<25 {
            let version = try Self.randomEdit(pg, &rng, nextID: &nextID)
            #expect(follower.wait(forVersion: version, timeout: .seconds(20)), "step \(step): version \(version) not applied")
            try Self.expectSameAnswers(follower, pg, &rng, count: 4, "step \(step)")
        }
        // A burst without waiting: the same pipe edited by consecutive versions, plus a
        // metadata-only version (one transaction when read in one batch).
        let rows = try PG.sql(url, "SELECT min(id)::text FROM subterra_segments")
        let first = try #require(rows.first?.first.flatMap { $0 }.flatMap { Int64($0) })
        let id = try #require(try pg.segment(id: first))
        var s = id.record
        s.road = "Burst 1"
        let v1 = try pg.commit([.updateSegment(s, expectedVersion: id.version)])
        try pg.apply(StoreEdit(metadata: ["burst": "yes"]))
        s.road = "Burst 2"
        let v3 = try pg.commit([.updateSegment(s, expectedVersion: id.version + 1)])
        #expect(v3 == v1 + 2)
        #expect(follower.wait(forVersion: v3, timeout: .seconds(20)))
        #expect(follower.engine.segment(id: first)?.road == "Burst 2")
        try Self.expectSameAnswers(follower, pg, &rng, count: 4, "after the burst")
        // Every version exactly once, in order.
        #expect(log.versions == Array((start + 1)...v3))
        #expect(follower.lag.versions == 0 && follower.lag.seconds == 0)
    }

    /// Versions read in one catch-up are one engine transaction, straight to the head.
    @Test func aBatchOfVersionsIsAppliedAsOneTransactionAtTheHead() throws {
        let url = try PG.freshDatabase("batch")
        let pg = try Self.loadSample(url, segments: 200)
        let follower = try PostGISFollower(url: url)
        let log = Log()
        follower.onApply = { log.add($0) }
        let start = follower.appliedVersion
        var rng = SplitMix64(seed: 12)
        var nextID: Int64 = 6_000_000
        var last = start
        for _ in 0..<12 { last = try Self.randomEdit(pg, &rng, nextID: &nextID) }
        #expect(try follower.catchUp() == last)
        #expect(log.all.count == 1 && log.versions == Array((start + 1)...last), "\(log.all.map(\.versions))")
        try Self.expectSameAnswers(follower, pg, &rng, count: 3, "after one batch")
        follower.stop()
    }

    @Test func readYourWritesByVersionToken() throws {
        let url = try PG.freshDatabase("ryw")
        let pg = try Self.loadSample(url, segments: 100)
        // A long poll: only the NOTIFY can wake it in time.
        let follower = try PostGISFollower(url: url, options: .init(pollInterval: .seconds(30)))
        follower.start()
        defer { follower.stop() }
        let writer = try PostGISStore.open(url)
        var s = try #require(try writer.segment(id: 5)).record
        s.id = 777_777
        s.road = "Read Your Writes Road"
        s.feature = nil
        s.part = nil
        s.sourceID = nil
        let token = try writer.commit([.insertSegment(s)])
        #expect(follower.wait(forVersion: token, timeout: .seconds(10)))
        #expect(follower.engine.segment(id: 777_777)?.road == "Read Your Writes Road")
        #expect(!follower.wait(forVersion: token + 100, timeout: .milliseconds(200)))
        _ = pg
    }

    @Test func aTrimmedLogMakesTheFollowerLoadASnapshot() throws {
        let url = try PG.freshDatabase("trim")
        let pg = try Self.loadSample(url, segments: 200)
        let follower = try PostGISFollower(url: url)
        let log = Log()
        follower.onApply = { log.add($0) }
        var rng = SplitMix64(seed: 5)
        var nextID: Int64 = 500_000
        var last: Int64 = 0
        for _ in 0..<4 { last = try Self.randomEdit(pg, &rng, nextID: &nextID) }
        try pg.trimChangeLog(through: last - 1)
        #expect(try follower.catchUp() == last)
        #expect(log.all.count == 1 && log.all[0].isSnapshot && log.all[0].versions == [last])
        try Self.expectSameAnswers(follower, pg, &rng, count: 3, "after the reload")
        // And from there it follows the log again.
        let next = try Self.randomEdit(pg, &rng, nextID: &nextID)
        #expect(try follower.catchUp() == next)
        #expect(log.versions == [next])
    }

    @Test func anAsyncWaitEndsWhenTheVersionIsAppliedTheTimeoutPassesOrItStops() async throws {
        let url = try PG.freshDatabase("asyncwait")
        let pg = try Self.loadSample(url, segments: 100)
        let follower = try PostGISFollower(url: url, options: .init(pollInterval: .milliseconds(50)))
        follower.start()
        var rng = SplitMix64(seed: 11)
        var nextID: Int64 = 700_000
        let v = try Self.randomEdit(pg, &rng, nextID: &nextID)
        #expect(await follower.waitForStoreVersion(v, timeout: .seconds(30)))
        #expect(follower.storeVersion >= v)
        var start = ContinuousClock.now
        #expect(!(await follower.waitForStoreVersion(v + 1000, timeout: .milliseconds(200))))
        #expect(ContinuousClock.now - start >= .milliseconds(150))
        #expect(follower.parkedWaits == 0)
        /// Returns once a wait is parked (so what follows happens while it waits).
        func parked() async throws {
            let end = ContinuousClock.now + .seconds(10)
            while follower.parkedWaits == 0, ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(5)) }
            try #require(follower.parkedWaits == 1)
        }
        // A version committed while waiting ends the wait.
        async let later = follower.waitForStoreVersion(v + 1, timeout: .seconds(30))
        try await parked()
        #expect(try Self.randomEdit(pg, &rng, nextID: &nextID) == v + 1)
        #expect(await later)
        // Cancelling the waiting task ends its wait at once, unreached.
        start = ContinuousClock.now
        let cancelled = Task { await follower.waitForStoreVersion(v + 1000, timeout: .seconds(30)) }
        try await parked()
        cancelled.cancel()
        #expect(!(await cancelled.value))
        #expect(follower.parkedWaits == 0)
        // Stopping ends a wait at once, unreached.
        async let never = follower.waitForStoreVersion(v + 1000, timeout: .seconds(30))
        try await parked()
        follower.stop()
        #expect(!(await never))
        #expect(ContinuousClock.now - start < .seconds(10))
        pg.close()
    }

    @Test func killedConnectionsLoseNothingAndDoubleNothing() throws {
        try killAndMaybeRestart(restart: false)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["SUBTERRA_PG_RESTART_DIR"] != nil, "no restartable server (scripts/with-postgres.sh)"))
    func killedConnectionsAndARestartedPrimaryLoseNothingAndDoubleNothing() throws {
        try killAndMaybeRestart(restart: true)
    }

    /// Has scripts/with-postgres.sh restart the restartable server (not a child of this process:
    /// see there why) and waits until it accepts connections again.
    static func restartServer() throws {
        let dir = URL(fileURLWithPath: try #require(ProcessInfo.processInfo.environment["SUBTERRA_PG_RESTART_DIR"]))
        let base = dir.appendingPathComponent(UUID().uuidString)
        try Data().write(to: base.appendingPathExtension("request"))
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: base.appendingPathExtension("done").path) { return }
            try #require(!FileManager.default.fileExists(atPath: base.appendingPathExtension("failed").path), "the server did not restart")
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("the restart was not answered within 90 s")
        throw CancellationError()
    }

    func killAndMaybeRestart(restart doRestart: Bool) throws {
        let env = ProcessInfo.processInfo.environment
        let server = try #require(doRestart ? env["SUBTERRA_PG_RESTARTABLE"] : PG.primary)
        let base = try PostGISLocation(url: server)
        let name = "t_restart_\(ProcessInfo.processInfo.processIdentifier)"
        try PG.sql(server, "DROP DATABASE IF EXISTS \(name)")
        try PG.sql(server, "CREATE DATABASE \(name)")
        let url = "postgresql://\(base.user)@\(base.host):\(base.port)/\(name)"
        try PG.sql(url, "CREATE EXTENSION IF NOT EXISTS postgis")
        var pg = try Self.loadSample(url, segments: 400)
        // Reads bounded at 5 s: a read stuck on a connection the restart broke fails and is
        // retried, and the store is reopened after three failures in a row.
        let follower = try PostGISFollower(url: url, options: .init(pollInterval: .milliseconds(100), maxBackoff: .seconds(1), readTimeout: .seconds(5)))
        let log = Log()
        follower.onApply = { log.add($0) }
        follower.start()
        defer { follower.stop() }
        let start = follower.appliedVersion
        var rng = SplitMix64(seed: 99)
        var nextID: Int64 = 2_000_000
        /// An edit, retried while the server is away (a refused edit wrote nothing).
        func edit() throws -> Int64 {
            var lastError: (any Error)?
            for _ in 0..<100 {
                do { return try Self.randomEdit(pg, &rng, nextID: &nextID) } catch {
                    lastError = error
                    Thread.sleep(forTimeInterval: 0.1)
                }
            }
            throw lastError!
        }
        var last: Int64 = start
        for _ in 0..<8 { last = try edit() }
        #expect(follower.wait(forVersion: last, timeout: .seconds(20)))
        // Kill the follower's connections (the listener and the pool's), mid-stream: this
        // database's only, not those of the followers of tests running beside it.
        let killed = try PG.sql(url, "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE application_name = 'subterra-follower' AND datname = current_database()")
        #expect(!killed.isEmpty)
        for _ in 0..<8 { last = try edit() }
        // Restart the server while the follower is behind or busy.
        for _ in 0..<4 { last = try edit() }
        if doRestart {
            try Self.restartServer()
            // The writer is not what is tested: a new one (the old pool's connections died with the server).
            pg.close()
            pg = try PostGISStore.open(url)
        }
        for _ in 0..<8 { last = try edit() }
        #expect(follower.wait(forVersion: last, timeout: .seconds(60)), "stuck at \(follower.appliedVersion), last error \(follower.lastError ?? "none")")
        #expect(log.versions == Array((start + 1)...last), "every version once, in order")
        #expect(!log.all.contains { $0.isSnapshot })
        var probes = SplitMix64(seed: 100)
        try Self.expectSameAnswers(follower, pg, &probes, count: 4, "after the restart")
    }

    /// A change-log read that the server holds up (here: on another session's lock) fails after
    /// ``PostGISFollower/Options/readTimeout`` (the server's statement or lock timeout, or the
    /// client's); after two such failures the follower
    /// opens its store again; once the server answers it catches up, every version once.
    @Test func aReadTheServerDoesNotAnswerTimesOutAndTheStoreIsReopened() throws {
        let url = try PG.freshDatabase("stuckread")
        let pg = try Self.loadSample(url, segments: 200)
        let follower = try PostGISFollower(
            url: url,
            options: .init(pollInterval: .milliseconds(50), listen: false, maxBackoff: .milliseconds(200), readTimeout: .seconds(2), reopenAfterFailures: 2))
        let log = Log()
        follower.onApply = { log.add($0) }
        let start = follower.appliedVersion
        var rng = SplitMix64(seed: 41)
        var nextID: Int64 = 5_000_000
        let first = try Self.randomEdit(pg, &rng, nextID: &nextID)
        // Another session holds subterra_versions, which a catch-up reads after the head (the
        // store's open reads neither): the follower's reads wait on the lock until cancelled.
        let locker = "subterra-test-locker"
        let held = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = try? PG.sql(url, """
                DO $$ BEGIN PERFORM set_config('application_name', '\(locker)', false);
                LOCK TABLE subterra_versions IN ACCESS EXCLUSIVE MODE; PERFORM pg_sleep(120); END $$
                """)
            held.signal()
        }
        let endLocker = {
            _ = try? PG.sql(url, "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE application_name = '\(locker)' AND datname = current_database()")
        }
        defer { endLocker() }
        let lockDeadline = Date().addingTimeInterval(30)
        while try PG.sql(url, "SELECT 1::text FROM pg_locks WHERE relation = 'subterra_versions'::regclass AND mode = 'AccessExclusiveLock' AND granted").isEmpty {
            try #require(Date() < lockDeadline, "the lock was not taken")
            Thread.sleep(forTimeInterval: 0.05)
        }
        follower.start()
        defer { follower.stop() }
        let reopenDeadline = Date().addingTimeInterval(60)
        while follower.storeReopens == 0, Date() < reopenDeadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(follower.storeReopens >= 1, "the store was not reopened; last error \(follower.lastError ?? "none")")
        #expect(follower.appliedVersion == start, "nothing can be read while the lock is held")
        // The server ends the read (statement or lock timeout), or the client stops waiting.
        let failure = follower.lastError ?? "none"
        #expect(["no answer within", "lock timeout", "statement timeout"].contains { failure.contains($0) }, "\(failure)")
        // Release the lock: the follower catches up on the new store, the versions once each.
        let ended = try PG.sql(url, "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE application_name = '\(locker)' AND datname = current_database()")
        #expect(!ended.isEmpty)
        #expect(held.wait(timeout: .now() + 30) == .success, "the locking session ended")
        let second = try Self.randomEdit(pg, &rng, nextID: &nextID)
        #expect(second == first + 1)
        #expect(follower.wait(forVersion: second, timeout: .seconds(30)), "stuck at \(follower.appliedVersion), last error \(follower.lastError ?? "none")")
        #expect(log.versions == [first, second])
        try Self.expectSameAnswers(follower, pg, &rng, count: 2, "after the reopen")
        let clearDeadline = Date().addingTimeInterval(10)
        while follower.lastError != nil, Date() < clearDeadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(follower.lastError == nil, "a successful catch-up clears the error")
    }

    @Test func aReplicaFollowerCatchesUpToThePrimary() throws {
        guard let replica = PG.replica else { return }
        let url = try PG.freshDatabase("replicafollow")
        let pg = try Self.loadSample(url, segments: 300)
        let r = try PostGISLocation(url: replica), p = try PostGISLocation(url: url)
        let replicaURL = "postgresql://\(r.user)@\(r.host):\(r.port)/\(p.database)"
        // The database and the import reach the replica by WAL: retry until it has both.
        var follower: PostGISFollower?
        let deadline = Date().addingTimeInterval(60)
        while follower == nil, Date() < deadline {
            if let f = try? PostGISFollower(url: replicaURL, options: .replica()), f.appliedVersion >= 1 { follower = f } else {
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        let f = try #require(follower)
        f.start()
        defer { f.stop() }
        var rng = SplitMix64(seed: 7)
        var nextID: Int64 = 3_000_000
        var last: Int64 = 0
        for _ in 0..<15 { last = try Self.randomEdit(pg, &rng, nextID: &nextID) }
        #expect(f.wait(forVersion: last, timeout: .seconds(30)), "stuck at \(f.appliedVersion), last error \(f.lastError ?? "none")")
        try Self.expectSameAnswers(f, pg, &rng, count: 4, "replica follower")
    }

    @Test func anOldSchemaIsMigratedAndFollowed() throws {
        let url = try PG.freshDatabase("migrate1")
        // A schema-1 store, as the first PostGIS release made it.
        let v1 = PostGISSchema.migrations(srid: 4549, crs: "EPSG:4549")[0]
        for statement in PostGISSchema.statements(v1) { try PG.sql(url, statement) }
        try PG.sql(url, "INSERT INTO subterra_meta VALUES ('subterra.schema', '1')")
        try PG.sql(url, "UPDATE subterra_state SET data_version = 7")
        let pg = try Self.loadSample(url, segments: 50)
        #expect(try pg.metadata()["subterra.schema"] == "2")
        #expect(try pg.dataVersion() == 8)
        let follower = try PostGISFollower(url: url)
        var rng = SplitMix64(seed: 3)
        var nextID: Int64 = 4_000_000
        let v = try Self.randomEdit(pg, &rng, nextID: &nextID)
        #expect(try follower.catchUp() == v)
        try Self.expectSameAnswers(follower, pg, &rng, count: 2, "migrated store")
    }
}

@Suite("PostGIS row-level security", .enabled(if: PG.primary != nil, PG.skipReason))
struct PostGISRowSecurityTests {
    @Test func anEditorForOneOwnerCannotChangeAnotherOwnersPipe() throws {
        let url = try PG.freshDatabase("rls")
        let network = try DistrictReader.readGeoJSON(directory: sampleDir)
        var segs = Array(network.segments.prefix(20))
        for i in segs.indices { segs[i].owner = i % 2 == 0 ? "Water Co" : "Gas Co" }
        let admin = try PostGISStore.open(url)
        try admin.apply(StoreEdit(upsertSegments: segs))
        let role = "water_editor_\(ProcessInfo.processInfo.processIdentifier)"
        try PG.sql(url, "DROP ROLE IF EXISTS \(role)")
        try PG.sql(url, "CREATE ROLE \(role) LOGIN")
        try PG.sql(url, "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \(role)")
        try PG.sql(url, "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO \(role)")
        try PG.sql(url, "INSERT INTO subterra_editors VALUES ('\(role)', '{Water Co}')")
        defer {
            _ = try? PG.sql(url, "DELETE FROM subterra_editors")
            _ = try? PG.sql(url, "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM \(role)")
            _ = try? PG.sql(url, "REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM \(role)")
            _ = try? PG.sql(url, "DROP ROLE IF EXISTS \(role)")
        }
        let loc = try PostGISLocation(url: url)
        let asEditor = "postgresql://\(role)@\(loc.host):\(loc.port)/\(loc.database)"
        let water = segs[0], gas = segs[1]
        // Plain SQL: the gas pipe cannot be changed or deleted, nor a pipe given away or made for gas.
        #expect(try PG.sql(asEditor, "UPDATE subterra_segments SET road = 'x' WHERE id = \(gas.id) RETURNING id::text") == [])
        #expect(try PG.sql(asEditor, "DELETE FROM subterra_segments WHERE id = \(gas.id) RETURNING id::text") == [])
        #expect(throws: (any Error).self) { try PG.sql(asEditor, "UPDATE subterra_segments SET owner = 'Gas Co' WHERE id = \(water.id)") }
        #expect(try PG.sql(asEditor, "SELECT count(*)::text FROM subterra_segments") == [["20"]])
        #expect(try PG.sql(asEditor, "UPDATE subterra_segments SET road = 'mine' WHERE id = \(water.id) RETURNING id::text") == [[String(water.id)]])
        #expect(try admin.segment(id: gas.id)?.record.road == gas.road)
        // A role that may only read subterra_meta still opens the (identified) store writable:
        // the open writes nothing there when the store's identity is recorded.
        try PG.sql(url, "REVOKE INSERT, UPDATE, DELETE ON subterra_meta FROM \(role)")
        #expect(try PostGISStore.open(asEditor).storeID() == (try admin.storeID()))
        #expect(try admin.storeID() != nil)
        // Through PostGISStore: a clear refusal, and the own pipe's edit lands.
        let editor = try PostGISStore.open(asEditor)
        let g = try #require(try editor.segment(id: gas.id))
        var changed = g.record
        changed.road = "Not Yours Road"
        let refused = #expect(throws: StoreError.self) { try editor.commit([.updateSegment(changed, expectedVersion: g.version)]) }
        #expect(refused?.message.contains("permission denied") == true)
        #expect(refused?.kind == .invalid)
        let deleteRefused = #expect(throws: StoreError.self) { try editor.commit([.deleteSegment(id: gas.id, expectedVersion: g.version)]) }
        #expect(deleteRefused?.message.contains("permission denied") == true)
        var foreign = network.segments[30]
        foreign.owner = "Gas Co"
        let insertRefused = #expect(throws: StoreError.self) { try editor.commit([.insertSegment(foreign)]) }
        #expect(insertRefused?.message.contains("permission denied") == true)
        let w = try #require(try editor.segment(id: water.id))
        var mine = w.record
        mine.road = "Water Works Road"
        try editor.commit([.updateSegment(mine, expectedVersion: w.version)])
        #expect(try admin.segment(id: water.id)?.record.road == "Water Works Road")
        #expect(try admin.segment(id: gas.id)?.record.road == gas.road)
    }
}
