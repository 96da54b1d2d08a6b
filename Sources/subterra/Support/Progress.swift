import Foundation

/// An activity line on stderr for long imports and index builds, drawn **only when stderr is a
/// terminal** (`isatty(2)`), so pipes, logs and tests never see control characters.
///
/// The importer and the index build expose no per-record callbacks, so this shows the current
/// phase, a moving bar and the elapsed time, redrawn by a timer thread; `finish()` clears it.
final class Progress: @unchecked Sendable {
    // `state` is touched by the caller's thread and the timer thread: every access holds `lock`.
    private let lock = NSLock()
    private var state: (phase: String, tick: Int, done: Bool) = ("", 0, false)
    private let start = Date()
    private var thread: Thread?

    /// A progress line, or nil when stderr is not a terminal (callers use `progress?.phase`).
    static func onTerminal(_ title: String) -> Progress? {
        guard StdErr.isTerminal else { return nil }
        let p = Progress()
        p.phase(title)
        p.run()
        return p
    }

    func phase(_ text: String) {
        lock.withLock { state.phase = text }
        draw()
    }

    private func run() {
        let t = Thread { [weak self] in
            while let self, !self.lock.withLock({ self.state.done }) {
                self.draw()
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        thread = t
        t.start()
    }

    private func draw() {
        let (phase, tick, done) = lock.withLock { () -> (String, Int, Bool) in
            state.tick += 1
            return (state.phase, state.tick, state.done)
        }
        guard !done else { return }
        let width = 20
        let pos = tick % (2 * width - 2)
        let at = pos < width ? pos : 2 * width - 2 - pos
        var bar = Array(repeating: Character(" "), count: width)
        for k in max(0, at - 2)...min(width - 1, at + 2) { bar[k] = "=" }
        let secs = String(format: "%.1fs", Date().timeIntervalSince(start))
        StdErr.write("\r\u{1B}[2K[\(String(bar))] \(phase) \(secs)")
    }

    /// Clears the line.
    func finish() {
        lock.withLock { state.done = true }
        StdErr.write("\r\u{1B}[2K")
    }
}
