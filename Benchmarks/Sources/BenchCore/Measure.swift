#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CBenchSupport

/// Monotonic nanoseconds; one vDSO call (~20 ns), cheap next to a microsecond query.
@inline(__always)
public func nowNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Heap bytes in use right now (glibc `mallinfo2`: small-block arena plus mmapped blocks), the
/// most direct view of what an index retains: taken before and after a build, with the index
/// alive, the delta is its footprint whatever allocator calls it made.
public func heapBytesInUse() -> Int {
    Int(bench_heap_in_use())
}

/// Returns freed memory to the kernel so the next resident-set delta starts clean.
public func trimHeap() {
    bench_heap_trim()
}

/// Resident set size from `/proc/self/statm`, in bytes (0 where unavailable).
public func residentBytes() -> Int {
    guard let f = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(f) }
    var size = 0, resident = 0
    guard withUnsafeMutablePointer(to: &size, { s in
        withUnsafeMutablePointer(to: &resident) { r in
            withVaList([s, r]) { vfscanf(f, "%ld %ld", $0) }
        }
    }) == 2 else { return 0 }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// The value at quantile `p` (0…1) of sorted `values`, nearest-rank.
public func percentile(_ sorted: [UInt64], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
    return Double(sorted[min(max(rank, 0), sorted.count - 1)])
}

public func median(_ xs: [Double]) -> Double {
    guard !xs.isEmpty else { return .nan }
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Keeps a value observably alive so the optimiser cannot drop the work that produced it.
@inline(never)
public func keepAlive<T>(_ x: T) { withExtendedLifetime(x) {} }
