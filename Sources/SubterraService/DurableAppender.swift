import Foundation

/// Appends lines to a file opened with `O_APPEND`, made durable by **group commit**: a caller
/// awaits until its line is written and (with ``FsyncPolicy/always``) `fsync`ed, and one `fsync`
/// covers every line that arrived while the previous one ran.
///
/// Why: an `fsync` takes about a millisecond or more on most disks, so one per request under a
/// lock caps a service at the disk's sync rate, and blocking it on Swift's cooperative threads
/// (two on a two-core machine) stalls every other request too. Here the waiting is on a
/// continuation, the writing and syncing on one dedicated thread: at low load each line still
/// gets its own `fsync` before its caller resumes (the same guarantee as syncing inline); under
/// load the lines queue behind the running `fsync` and the next one makes them all durable,
/// and while callers are concurrent a commit delay (at most ``gatherDelayNs``, or until
/// ``gatherLines`` are queued) lets a group gather more of them first.
///
/// Layout: a byte buffer of pending lines and their callers' continuations, both swapped out by
/// the flusher thread under one lock. Lines are written in the order `append` was called, each
/// whole (`write(2)` is retried until the buffer is out; a line never straddles two groups).
/// With ``FsyncPolicy/never`` nothing waits for the disk: `append` writes the line itself and
/// returns.
final class DurableAppender: @unchecked Sendable {
    /// The state shared with the flusher thread (which keeps it alive until it has written the
    /// last line and closed the file).
    private final class Core: @unchecked Sendable {
        let fd: Int32
        let path: String
        let cond = NSCondition()
        var buffer: [UInt8] = []
        /// Each waiting caller, with where its line starts in `buffer`.
        var waiters: [(CheckedContinuation<Int64?, Never>, Int)] = []
        /// The file's size: at open, plus every group written whole since (the file is opened
        /// `O_APPEND` and only this appender writes it). A line's offset is decided from it when
        /// its group is written, never before, so a group that fails (and is cut off again)
        /// moves no later line.
        var end: Int64
        var closing = false
        /// Groups written (one `fsync` each): what tests and benchmarks read to see batching.
        var groups = 0
        /// When the last group's `fsync` returned (monotonic), to tell a busy stream from an
        /// idle one.
        var lastSync = DispatchTime(uptimeNanoseconds: 0)
        /// Lines in the last group.
        var lastGroupLines = 0
        /// Whether the flusher is in a commit delay, and the signal that ends it early (a full
        /// group, or closing).
        var gathering = false
        let gathered = DispatchSemaphore(value: 0)
        /// `write(2)`, or a stand-in that fails on cue (tests of a failed group).
        let writeBytes: Writer

        init(fd: Int32, path: String, write: @escaping Writer) {
            self.fd = fd
            self.path = path
            writeBytes = write
            end = Int64(lseek(fd, 0, SEEK_END))
        }

        /// `body` under the lock (a synchronous scope: callable from async code).
        func locked<T>(_ body: () -> T) -> T {
            cond.lock()
            defer { cond.unlock() }
            return body()
        }

        /// Queues `line` and a newline for the flusher, to resume `k` with the line's offset
        /// once they are durable (nil when the group could not be written).
        func enqueue(_ line: [UInt8], _ k: CheckedContinuation<Int64?, Never>) {
            locked {
                waiters.append((k, buffer.count))
                buffer.append(contentsOf: line)
                buffer.append(10)
                cond.signal()
                if gathering, waiters.count == DurableAppender.gatherLines { gathered.signal() }
            }
        }

        /// Writes `bytes` at the end and returns where they start; on a failure cuts the file
        /// back to its size before them (so no part of a line stays to shift or tear later
        /// ones) and returns nil. Called by one writer at a time.
        func writeGroup(_ bytes: [UInt8], sync: Bool) -> Int64? {
            let at = end
            if writeAll(bytes), !sync || fsync(fd) == 0 {
                end += Int64(bytes.count)
                return at
            }
            if ftruncate(fd, off_t(at)) != 0 {
                // The size is unknown now: take the file's own, whatever it holds.
                end = Int64(lseek(fd, 0, SEEK_END))
            }
            return nil
        }

        /// Writes all of `bytes`; false on a write error other than EINTR.
        func writeAll(_ bytes: [UInt8]) -> Bool {
            var off = 0
            while off < bytes.count {
                let n = bytes[off...].withUnsafeBytes { writeBytes(fd, $0) }
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                off += n
            }
            return true
        }

        /// The flusher: takes every pending line, writes them in one go, syncs, resumes their
        /// callers; sleeps while nothing is pending; closes the file once closing and drained.
        func run() {
            while true {
                cond.lock()
                while buffer.isEmpty && !closing { cond.wait() }
                if buffer.isEmpty && closing {
                    cond.unlock()
                    close(fd)
                    return
                }
                // Commit delay, as PostgreSQL's `commit_delay` with `commit_siblings`: when
                // callers are concurrent (this group or the last one holds several lines) and
                // the stream is busy (the last sync returned moments ago), gather for a short
                // while before syncing, so one `fsync` covers several callers rather than one
                // or two (a fast disk syncs in ~0.2 ms, so under load most groups held one
                // line). A lone caller, one line per group, never waits; nor does an idle
                // stream.
                let now = DispatchTime.now()
                if DurableAppender.shouldGather(
                    waiting: waiters.count, lastGroupLines: lastGroupLines,
                    sinceLastSyncNs: now.uptimeNanoseconds &- lastSync.uptimeNanoseconds, closing: closing)
                {
                    // Timed on the monotonic clock: a timed condition wait counts on the wall
                    // clock, which a time step could stretch from a millisecond to minutes.
                    // So the wait is on a semaphore (monotonic), which `enqueue` signals when the
                    // group is full.
                    gathering = true
                    cond.unlock()
                    _ = gathered.wait(timeout: DispatchTime(uptimeNanoseconds: now.uptimeNanoseconds &+ DurableAppender.gatherDelayNs))
                    cond.lock()
                    gathering = false
                    while gathered.wait(timeout: .now()) == .success {}
                }
                let bytes = buffer
                let resume = waiters
                lastGroupLines = waiters.count
                buffer.removeAll(keepingCapacity: true)
                waiters.removeAll(keepingCapacity: true)
                groups += 1
                cond.unlock()
                let at = writeGroup(bytes, sync: true)
                cond.lock()
                lastSync = DispatchTime.now()
                cond.unlock()
                for (w, start) in resume { w.resume(returning: at.map { $0 + Int64(start) }) }
            }
        }
    }

    /// The commit delay's window: a group waits up to this long for more lines, nanoseconds.
    static let gatherDelayNs: UInt64 = 1_000_000
    /// A group that has this many lines syncs without waiting.
    static let gatherLines = 16
    /// A stream counts as busy when its last sync returned within this many nanoseconds.
    static let busyWindowNs: UInt64 = 2_000_000

    /// Whether the flusher, finding `waiting` lines queued, waits up to ``gatherDelayNs`` for
    /// more before syncing: only when callers are concurrent (this group or the last one holds
    /// several lines), the group is not full, the stream is busy (the last sync returned less
    /// than ``busyWindowNs`` ago) and the file is not closing.
    static func shouldGather(waiting: Int, lastGroupLines: Int, sinceLastSyncNs: UInt64, closing: Bool) -> Bool {
        !closing && waiting < gatherLines && (waiting >= 2 || lastGroupLines >= 2) && sinceLastSyncNs < busyWindowNs
    }

    /// Writes bytes to a file descriptor as `write(2)` does: the count written, or -1 with `errno` set.
    typealias Writer = @Sendable (Int32, UnsafeRawBufferPointer) -> Int

    private let core: Core
    let policy: FsyncPolicy
    var path: String { core.path }

    /// Opens (creating, mode 0600) `path` for appending. `write` stands in for `write(2)` in
    /// tests that make a group fail.
    ///
    /// - Throws: the `errno` text when it cannot be opened.
    init(path: String, policy: FsyncPolicy, write: @escaping Writer = { fd, b in Foundation.write(fd, b.baseAddress, b.count) }) throws(AppendError) {
        let d = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard d >= 0 else { throw AppendError(reason: String(cString: strerror(errno))) }
        core = Core(fd: d, path: path, write: write)
        self.policy = policy
        if policy == .always {
            let c = core
            let t = Thread { c.run() }
            t.name = "subterra-append"
            t.start()
        }
    }

    deinit {
        if policy == .always {
            core.cond.lock()
            core.closing = true
            core.cond.signal()
            if core.gathering { core.gathered.signal() }
            core.cond.unlock()
        } else {
            close(core.fd)
        }
    }

    /// Appends `line` and a newline; returns once it is written (and, with `.always`, synced
    /// to disk), with the byte offset the line starts at in the file. Nil when the write or sync
    /// failed (the caller logs it): the line's group is then cut off the file again, so later
    /// lines keep true offsets and whole lines.
    @discardableResult
    func append(_ line: [UInt8]) async -> Int64? {
        if policy == .never {
            var l = line
            l.append(10)
            return core.locked { core.writeGroup(l, sync: false) }
        }
        return await withCheckedContinuation { core.enqueue(line, $0) }
    }

    /// Groups written so far (each one `write` and one `fsync`); 0 with `.never`.
    var groupCount: Int { core.locked { core.groups } }
}

/// Why a durable file could not be opened.
struct AppendError: Error {
    var reason: String
}
