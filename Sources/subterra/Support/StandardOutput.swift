import ArgumentParser
// `stdout` is a C global that Swift 6 cannot prove concurrency-safe; the CLI touches it only on
// the main thread once the command's work is done.
@preconcurrency import Glibc

/// Flushes standard output and exits 2 with one line if anything written to it was lost (a full
/// disk, a closed descriptor, a broken pipe), so a truncated report never exits 0.
func checkStandardOutput() throws {
    errno = 0
    let flushFailed = fflush(stdout) != 0
    guard flushFailed || ferror(stdout) != 0 else { return }
    let why = errno != 0 ? String(cString: strerror(errno)) : "a write failed"
    StdErr.write("subterra: error: standard output: cannot write the answer: \(why)\n")
    throw ExitCode(ExitStatus.error)
}
