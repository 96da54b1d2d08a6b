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
        var waiters: [CheckedContinuation<Bool, Never>] = []
        /// Where the next line queued will start: the file's size at open plus every byte
        /// queued since (the file is opened `O_APPEND` and only this appender writes it).
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

        init(fd: Int32, path: String) {
            self.fd = fd
            self.path = path
            end = Int64(lseek(fd, 0, SEEK_END))
        }

        /// `body` under the lock (a synchronous scope: callable from async code).
        func locked<T>(_ body: () -> T) -> T {
            cond.lock()
            defer { cond.unlock() }
            return body()
        }

        /// Queues `line` and a newline for the flusher, to resume `k` once they are durable;
        /// returns the offset the line will start at.
        func enqueue(_ line: [UInt8], _ k: CheckedContinuation<Bool, Never>) -> Int64 {
            locked {
                let at = end
                end += Int64(line.count + 1)
                buffer.append(contentsOf: line)
                buffer.append(10)
                waiters.append(k)
                cond.signal()
                if gathering, waiters.count == DurableAppender.gatherLines { gathered.signal() }
                return at
            }
        }

        /// Writes all of `bytes`; false on a write error other than EINTR.
        func writeAll(_ bytes: [UInt8]) -> Bool {
            var off = 0
            while off < bytes.count {
                let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
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
                if !closing, waiters.count < DurableAppender.gatherLines, waiters.count >= 2 || lastGroupLines >= 2,
                    now.uptimeNanoseconds &- lastSync.uptimeNanoseconds < DurableAppender.busyWindowNs
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
                let ok = writeAll(bytes) && fsync(fd) == 0
                cond.lock()
                lastSync = DispatchTime.now()
                cond.unlock()
                for w in resume { w.resume(returning: ok) }
            }
        }
    }

    /// The commit delay's window: a group waits up to this long for more lines, nanoseconds.
    static let gatherDelayNs: UInt64 = 1_000_000
    /// A group that has this many lines syncs without waiting.
    static let gatherLines = 16
    /// A stream counts as busy when its last sync returned within this many nanoseconds.
    static let busyWindowNs: UInt64 = 2_000_000

    private let core: Core
    let policy: FsyncPolicy
    var path: String { core.path }

    /// Opens (creating, mode 0600) `path` for appending.
    ///
    /// - Throws: the `errno` text when it cannot be opened.
    init(path: String, policy: FsyncPolicy) throws(AppendError) {
        let d = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard d >= 0 else { throw AppendError(reason: String(cString: strerror(errno))) }
        core = Core(fd: d, path: path)
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
    /// failed (the caller logs it; the line may be lost, and later offsets may be off).
    @discardableResult
    func append(_ line: [UInt8]) async -> Int64? {
        if policy == .never {
            var l = line
            l.append(10)
            return core.locked {
                let at = core.end
                core.end += Int64(l.count)
                return core.writeAll(l) ? at : nil
            }
        }
        let offset = Offset()
        let ok = await withCheckedContinuation { offset.value = core.enqueue(line, $0) }
        return ok ? offset.value : nil
    }

    /// The offset `enqueue` reports from inside the continuation's closure.
    private final class Offset: @unchecked Sendable { var value: Int64 = 0 }

    /// Groups written so far (each one `write` and one `fsync`); 0 with `.never`.
    var groupCount: Int { core.locked { core.groups } }
}

/// Why a durable file could not be opened.
struct AppendError: Error {
    var reason: String
}
