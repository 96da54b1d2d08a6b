import Foundation
import SubterraModel

/// The files a command reads, gathered in one place so that every file it writes can be checked
/// against all of them (``OutputFile``).
///
/// An entry is a role for messages (`"--store"`, `"--rules"`, `"dig area"`) and a path as given.
/// A path need not exist: a store's SQLite journal (`-journal`, `-wal`, `-shm`) is listed too, so
/// an output can never be created where SQLite would take it for the store's own journal. A
/// directory entry (a survey directory given as `--store` or to `import`) stands for everything
/// directly inside it, read or not, present or future: no output may be placed there.
struct CommandInputs {
    private(set) var files: [(role: String, path: String)] = []

    init() {}

    /// Adds `path` (nothing when nil or empty).
    mutating func add(_ role: String, _ path: String?) {
        guard let path, !path.isEmpty else { return }
        files.append((role, path))
    }

    /// Adds a map source as ``StoreOpener/open(_:mapping:rules:progress:)`` reads it: a
    /// GeoPackage and its journal files, or the survey files a directory or a segments file
    /// stands for (`segments.*` and `points.*` beside it).
    mutating func addStore(_ path: String, role: String = "--store") {
        add(role, path)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return }
        if !isDir.boolValue && path.lowercased().hasSuffix(".gpkg") {
            for suffix in ["-journal", "-wal", "-shm"] { add(role, path + suffix) }
            return
        }
        // Unreadable layouts are refused by the opener itself; here they add no file.
        for s in (try? StoreOpener.fileSources(path, isDirectory: isDir.boolValue, mapping: nil)) ?? [] {
            add(role, s.path)
        }
    }

    /// Adds the file of an `@file` geometry argument (WKT and GeoJSON text add nothing).
    mutating func addGeometry(_ text: String, role: String) {
        if text.hasPrefix("@") { add(role, String(text.dropFirst())) }
    }

    static func + (a: CommandInputs, b: CommandInputs) -> CommandInputs {
        var out = a
        out.files += b.files
        return out
    }
}

/// A file the command writes (`--map`, `--svg`, `--out`): checked against every input before any
/// work, then written to a temporary file beside it, flushed to disk and renamed into place.
///
/// Rules, in the order they are checked:
/// - The output must not be the same file as any input (``CommandInputs``): same device and inode
///   after following links when both exist (so a symbolic or hard link to the store is caught),
///   else the same path once the directory's links are resolved. It must not lie directly in an
///   input directory (same device and inode as the directory it would be written into), so a
///   survey directory's other files (`points.csv` beside `points.geojson`) are safe too.
/// - A directory, block device, socket or dangling symbolic link is refused.
/// - A new file's directory must exist; it is not created (a mistyped directory is an error,
///   not a silently made tree).
/// - A regular file (new or existing) is written as `.<name>.subterra-XXXXXX` in the target's
///   directory, `fsync`ed, and `rename(2)`d over the target: readers see the old file or the
///   complete new one, never a part. A symbolic link is followed, so the file it names is
///   replaced and the link stays. An existing file keeps its permission bits; a new one gets
///   `0666` less the umask. On any failure the temporary file is removed and the target is as it
///   was. A process killed between the two steps can leave the temporary file behind.
/// - A character device or FIFO (`/dev/stdout`, `/dev/null`, `>(…)`) is written directly, with
///   every `write` and the `close` checked: renaming over a device node would replace the node
///   itself. `/dev/full` thus fails with "No space left on device".
///
/// Every failure is a ``CLIError`` naming the option, the path and the reason (`strerror`);
/// callers print their "written to" line only after ``write(_:)`` returns.
struct OutputFile {
    /// The path as the user gave it, for messages.
    let path: String
    /// The option that named it (`--map`), for messages.
    let option: String
    private let target: Target

    private enum Target {
        /// A regular file, by its resolved absolute path; `mode` is its permission bits.
        case file(String, mode: mode_t)
        /// A character device or FIFO, opened and written as is.
        case stream
    }

    /// Checks `path` against `inputs` and against what can be written; nothing is written yet.
    init(_ path: String, option: String, inputs: CommandInputs) throws {
        self.path = path
        self.option = option
        guard !path.isEmpty else { throw CLIError("\(option): the output path is empty") }
        try Self.refuseInputs(path, option: option, inputs: inputs)
        var st = stat()
        if stat(path, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                guard let real = Self.realPath(path) else { throw Self.failure(errno, option, path, "cannot resolve the path") }
                target = .file(real, mode: st.st_mode & 0o7777)
            case S_IFCHR, S_IFIFO:
                target = .stream
            case S_IFDIR:
                throw CLIError("\(option) \(path): is a directory; give a file name")
            default:
                throw CLIError("\(option) \(path): not a regular file, character device or FIFO; refusing to write to it")
            }
            return
        }
        let missing = errno
        var lst = stat()
        if lstat(path, &lst) == 0 {
            throw CLIError("\(option) \(path): a symbolic link to a missing file; remove it or give another path")
        }
        guard missing == ENOENT else { throw Self.failure(missing, option, path, "cannot write") }
        let parent = Self.parent(path)
        guard let dir = Self.realPath(parent) else {
            throw Self.failure(errno, option, path, "cannot write (directory \(parent))")
        }
        var dst = stat()
        guard stat(dir, &dst) == 0, dst.st_mode & S_IFMT == S_IFDIR else {
            throw Self.failure(ENOTDIR, option, path, "cannot write (\(parent))")
        }
        let mask = umask(0)
        umask(mask)
        target = .file(dir + "/" + (path as NSString).lastPathComponent, mode: 0o666 & ~mask)
    }

    /// Refuses `path` when it is the same file as any of `inputs` or lies directly in an input
    /// directory: same device and inode after following links when both exist, else the same
    /// path once the directories' links are resolved. `import --store` uses this alone (SQLite
    /// writes the store, not ``write(_:)``).
    static func refuseInputs(_ path: String, option: String, inputs: CommandInputs) throws {
        var out = stat()
        let outExists = stat(path, &out) == 0
        let outPath = outExists ? realPath(path) : resolvedName(path)
        var home = stat()
        let hasHome = outPath.map { stat(parent($0), &home) == 0 } ?? false
        for (role, input) in inputs.files {
            var st = stat()
            let same: Bool
            if stat(input, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
                if hasHome, st.st_dev == home.st_dev, st.st_ino == home.st_ino {
                    throw CLIError("\(option) \(path): is inside the \(role) input directory \(input); write outputs elsewhere")
                }
                continue
            }
            if outExists, stat(input, &st) == 0 {
                same = st.st_dev == out.st_dev && st.st_ino == out.st_ino
            } else {
                same = !outExists && outPath != nil && outPath == resolvedName(input)
            }
            if same {
                throw CLIError("\(option) \(path): is the same file as the \(role) input \(input); refusing to overwrite an input")
            }
        }
    }

    /// Writes `data` to the target (see the type's rules); throws with the reason on any failure.
    func write(_ data: Data) throws {
        switch target {
        case .stream:
            let fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC)
            guard fd >= 0 else { throw Self.failure(errno, option, path, "cannot open for writing") }
            do { try writeAll(fd, data) } catch {
                close(fd)
                throw error
            }
            guard close(fd) == 0 else { throw Self.failure(errno, option, path, "cannot write") }
        case .file(let real, let mode):
            try replace(real, mode: mode, with: data)
        }
    }

    private func replace(_ real: String, mode: mode_t, with data: Data) throws {
        do { try DurableFile.replace(real, mode: mode, with: data) } catch {
            throw Self.failure(error.code, option, path, error.step)
        }
    }

    private func writeAll(_ fd: Int32, _ data: Data) throws {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws in
            guard var p = raw.baseAddress else { return }
            var left = raw.count
            while left > 0 {
                let n = Foundation.write(fd, p, left)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw Self.failure(n < 0 ? errno : EIO, option, path, "cannot write") }
                p += n
                left -= n
            }
        }
    }

    /// `option path: what: strerror(code)`. The code comes first so that callers read `errno`
    /// before building the other arguments can change it.
    private static func failure(_ code: Int32, _ option: String, _ path: String, _ what: String) -> CLIError {
        CLIError("\(option) \(path): \(what): \(String(cString: strerror(code)))")
    }

    /// The directory part of `path` ("." for a bare name).
    private static func parent(_ path: String) -> String {
        let p = (path as NSString).deletingLastPathComponent
        return p.isEmpty ? "." : p
    }

    /// `realpath(3)`: absolute, with every link and `.`/`..` resolved; nil when it fails.
    private static func realPath(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    /// The path with its directory resolved and its last component kept: what a file that does
    /// not exist yet would be called.
    private static func resolvedName(_ path: String) -> String? {
        realPath(parent(path)).map { $0 + "/" + (path as NSString).lastPathComponent }
    }
}
