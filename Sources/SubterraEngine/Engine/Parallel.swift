import Dispatch
import Foundation

/// Runs `first` and `second` at once on two of GCD's worker threads
/// (`DispatchQueue.concurrentPerform`) and returns both results; one after the other on a
/// one-core machine. For the independent halves of an O(n) engine build (the row table beside
/// the lookups and the segment index): a 10^6 build is single-threaded otherwise, with the
/// second core idle.
///
/// The closures are `@Sendable`, so the compiler holds them to sharing no mutable state. Each
/// result goes to its own slot, read only after `concurrentPerform` has returned (which waits
/// for both).
func _both<A, B>(_ first: @Sendable () -> A, _ second: @Sendable () -> B) -> (A, B) {
    guard ProcessInfo.processInfo.activeProcessorCount > 1 else { return (first(), second()) }
    let a = _ResultSlots<A>(count: 1), b = _ResultSlots<B>(count: 1)
    DispatchQueue.concurrentPerform(iterations: 2) { i in
        if i == 0 { a.set(0, first()) } else { b.set(0, second()) }
    }
    return (a.values()[0], b.values()[0])
}
