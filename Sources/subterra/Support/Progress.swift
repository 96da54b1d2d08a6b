import Foundation
import SubterraModel

/// An activity line on stderr for long imports and index builds, drawn **only when stderr is a
/// terminal** (`isatty(2)`), so pipes, logs and tests never see control characters.
///
/// With a known fraction (the importer's ``ImportProgress``: bytes read, records checked, rows
/// written) it draws a percentage bar; for phases without one (the engine's index build) a moving
/// bar. A timer thread redraws every 0.1 s, so callers only store the state and never pay for
/// terminal output per record; `finish()` clears the line.
final class Progress: @unchecked Sendable {
    // `state` is touched by the caller's thread and the timer thread: every access holds `lock`.
    private let lock = NSLock()
    private var state: (phase: String, fraction: Double?, tick: Int, done: Bool) = ("", nil, 0, false)
    /// Whole percent and first word of the phase last drawn by `update`, so a change of either is
    /// drawn at once (at most ~100 lines per stage) and 100 % is never skipped by the timer.
    private var lastDrawn: (percent: Int, stage: Substring) = (-1, "")
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

    /// A phase without a known fraction (moving bar).
    func phase(_ text: String) {
        lock.withLock { state.phase = text; state.fraction = nil }
        draw()
    }

    /// A phase `fraction` (0…1) done; cheap to call per record: drawn at once only when the
    /// whole percentage or the stage changes, else by the timer.
    func update(_ text: String, fraction: Double) {
        let changed = lock.withLock { () -> Bool in
            state.phase = text
            state.fraction = fraction
            let now = (percent: Int((fraction.isFinite ? fraction : 0) * 100), stage: text.split(separator: " ").first ?? "")
            defer { lastDrawn = now }
            return now.percent != lastDrawn.percent || now.stage != lastDrawn.stage
        }
        if changed { draw() }
    }

    /// The importer's report as a phase line: `reading segments.geojson`, `checking 12000 of
    /// 40000 records`, `writing 3072 of 40000 rows`.
    func update(_ p: ImportProgress) {
        let text: String
        switch p.stage {
        case .reading: text = "reading " + (p.file.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "files")
        case .checking: text = "checking \(p.completed) of \(p.total.map(String.init) ?? "?") records"
        case .writing: text = "writing \(p.completed) of \(p.total.map(String.init) ?? "?") rows"
        }
        if let f = p.fraction { update(text, fraction: f) } else { phase(text) }
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
        let (phase, fraction, tick, done) = lock.withLock { () -> (String, Double?, Int, Bool) in
            state.tick += 1
            return (state.phase, state.fraction, state.tick, state.done)
        }
        guard !done else { return }
        let secs = String(format: "%.1fs", Date().timeIntervalSince(start))
        StdErr.write("\r\u{1B}[2K" + Self.line(phase: phase, fraction: fraction, tick: tick) + " " + secs)
    }

    /// The bar and phase text: `[=========           ]  45% reading segments.geojson` for a known
    /// fraction, a bouncing `[  =====   ]` otherwise.
    static func line(phase: String, fraction: Double?, tick: Int, width: Int = 20) -> String {
        var bar = Array(repeating: Character(" "), count: width)
        if let fraction {
            let f = fraction.isFinite ? min(1, max(0, fraction)) : 0
            let filled = Int((f * Double(width)).rounded(.down))
            for k in 0..<filled { bar[k] = "=" }
            let pct = Int((f * 100).rounded(.down))
            let padded = String(repeating: " ", count: max(0, 3 - String(pct).count)) + String(pct)
            return "[\(String(bar))] \(padded)% \(phase)"
        }
        let pos = tick % (2 * width - 2)
        let at = pos < width ? pos : 2 * width - 2 - pos
        for k in max(0, at - 2)...min(width - 1, at + 2) { bar[k] = "=" }
        return "[\(String(bar))] \(phase)"
    }

    /// Clears the line.
    func finish() {
        lock.withLock { state.done = true }
        StdErr.write("\r\u{1B}[2K")
    }
}
