import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The libc calls by their module name, since `InputFile` has members of the same names.
#if canImport(Glibc)
private func sysOpen(_ path: String, _ flags: Int32) -> Int32 { Glibc.open(path, flags) }
private func sysRead(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int { Glibc.read(fd, p, n) }
private func sysClose(_ fd: Int32) -> Int32 { Glibc.close(fd) }
#elseif canImport(Darwin)
private func sysOpen(_ path: String, _ flags: Int32) -> Int32 { Darwin.open(path, flags) }
private func sysRead(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int { Darwin.read(fd, p, n) }
private func sysClose(_ fd: Int32) -> Int32 { Darwin.close(fd) }
#endif

/// A file the tool reads (`--batch`, `@file`), opened and read with POSIX calls.
///
/// Foundation's `FileHandle` traps (`try!`) on a directory and `FileManager.contents(atPath:)`
/// refuses pipes, so neither is used. What is accepted: regular files, FIFOs and pipes (so
/// `<(…)` process substitution and `/dev/stdin` work), a terminal, and `/dev/null`. Refused with
/// one line before anything is read: directories, block devices and other character devices
/// (`/dev/zero`, `/dev/urandom` never end).
struct InputFile {
    let fd: Int32
    /// How messages name it: `"--batch q.jsonl"`, `"geometry @site.wkt"`.
    let label: String
    /// The size of a regular file (nil for pipes and terminals).
    let size: Int?
    private let owned: Bool

    /// Opens `path` for reading after checking what it is.
    static func open(_ path: String, label: String) throws(CLIError) -> InputFile {
        var st = stat()
        guard stat(path, &st) == 0 else {
            switch errno {
            case ENOENT, ENOTDIR: throw CLIError("\(label): file does not exist")
            case EACCES: throw CLIError("\(label): file is unreadable (permission denied)")
            default: throw CLIError("\(label): file is unreadable (\(errorText()))")
            }
        }
        try check(st, fd: nil, label: label)
        let fd = sysOpen(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIError("\(label): file is unreadable (\(errorText()))") }
        var now = stat()
        guard fstat(fd, &now) == 0, now.st_dev == st.st_dev, now.st_ino == st.st_ino else {
            _ = sysClose(fd)
            throw CLIError("\(label): the file changed while it was being opened")
        }
        return InputFile(fd: fd, label: label, size: isRegular(now) ? Int(now.st_size) : nil, owned: true)
    }

    /// Standard input, checked like a named file (a terminal or a pipe is fine, `< /dev/zero` is
    /// not).
    static func standardInput(label: String) throws(CLIError) -> InputFile {
        var st = stat()
        guard fstat(0, &st) == 0 else { throw CLIError("\(label): standard input is closed") }
        try check(st, fd: 0, label: label)
        return InputFile(fd: 0, label: label, size: isRegular(st) ? Int(st.st_size) : nil, owned: false)
    }

    private static func isRegular(_ st: stat) -> Bool { st.st_mode & S_IFMT == S_IFREG }

    private static func check(_ st: stat, fd: Int32?, label: String) throws(CLIError) {
        switch st.st_mode & S_IFMT {
        case S_IFREG, S_IFIFO: return
        case S_IFSOCK where fd != nil: return
        case S_IFDIR: throw CLIError("\(label): is a directory, not a file")
        case S_IFBLK: throw CLIError("\(label): is a block device, not a file")
        case S_IFCHR:
            var null = stat()
            if stat("/dev/null", &null) == 0, null.st_rdev == st.st_rdev { return }
            if let fd, isatty(fd) == 1 { return }
            if fd == nil, st.st_rdev == ttyDevice() { return }
            throw CLIError("\(label): is a character device, not a file or pipe (its input may never end)")
        default: throw CLIError("\(label): is not a file or pipe")
        }
    }

    /// The controlling terminal's device number, so `@/dev/tty` can be typed into.
    private static func ttyDevice() -> dev_t? {
        var st = stat()
        return stat("/dev/tty", &st) == 0 ? st.st_rdev : nil
    }

    func close() {
        if owned { _ = sysClose(fd) }
    }

    /// Reads into `buffer`; 0 at end of input. Retries interrupted reads and waits on a
    /// non-blocking descriptor.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(CLIError) -> Int {
        while true {
            let n = sysRead(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            switch errno {
            case EINTR: continue
            case EAGAIN:
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&p, 1, -1)
            default: throw CLIError("\(label): read failed (\(InputFile.errorText()))")
            }
        }
    }

    /// The whole input, refused with its own message once it passes `limit` bytes (so at most
    /// `limit` bytes are ever held). `raise` names the option that raises the limit.
    func readAll(limit: Int, raise: String) throws -> [UInt8] {
        let tooBig = CLIError("\(label): the file is larger than \(limit) bytes, the limit (raise it with \(raise))")
        if let size, size > limit { throw tooBig }
        var out: [UInt8] = []
        out.reserveCapacity(min(limit, size ?? 1 << 16) + 1)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { return out }
            guard out.count + n <= limit else { throw tooBig }
            out.append(contentsOf: chunk[0..<n])
        }
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}

/// Splits input into lines without ever holding more than `maxLineBytes` of one line: a longer
/// line is reported as ``Event/tooLong(number:)`` the moment it passes the limit, and the rest
/// of it is skipped as it is read. Lines are numbered from 1, blank ones included.
struct LineReader {
    enum Event {
        case line(number: Int, bytes: [UInt8])
        case tooLong(number: Int)
    }

    let input: InputFile
    let maxLineBytes: Int

    /// Calls `body` for each non-blank line, in order, as soon as its end is read.
    /// - Complexity: O(input) time; memory O(maxLineBytes + 1 MiB).
    func forEach(_ body: (Event) throws -> Void) throws {
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var current: [UInt8] = []
        var skipping = false
        var number = 0
        func deliver(_ bytes: ArraySlice<UInt8>) throws {
            number += 1
            if skipping {
                skipping = false
            } else if bytes.contains(where: { !Self.isSpace($0) }) {
                try body(.line(number: number, bytes: Array(bytes)))
            }
        }
        func take(_ bytes: ArraySlice<UInt8>) throws {
            guard !skipping else { return }
            if current.count + bytes.count > maxLineBytes {
                skipping = true
                current = []
                try body(.tooLong(number: number + 1))
            } else {
                current.append(contentsOf: bytes)
            }
        }
        while true {
            let n = try chunk.withUnsafeMutableBytes { try input.read(into: $0) }
            if n == 0 { break }
            var i = 0
            while i < n {
                guard let nl = chunk[i..<n].firstIndex(of: 0x0A) else {
                    try take(chunk[i..<n])
                    break
                }
                if current.isEmpty, !skipping, nl - i <= maxLineBytes {
                    try deliver(chunk[i..<nl])
                } else {
                    try take(chunk[i..<nl])
                    try deliver(current[...])
                    current.removeAll(keepingCapacity: true)
                }
                i = nl + 1
            }
        }
        if skipping || !current.isEmpty { try deliver(current[...]) }
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A || b == 0x0B || b == 0x0C }
}
