#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CBenchSupport

/// Monotonic nanoseconds; one vDSO call (~20 ns), cheap next to a microsecond query.
@inline(__always)
/// CPU time of the whole process (every thread), nanoseconds.
public func processCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

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

/// Allocation calls made by this thread so far (malloc, calloc, realloc and the aligned forms),
/// as counted by subterra-compare's malloc wrappers; always 0 in a process without them (tests,
/// package-benchmark). Reading it allocates nothing; take a difference around a loop.
@inline(__always)
public func allocationsOnThisThread() -> UInt64 { bench_allocations_on_this_thread() }

/// Whether `allocationsOnThisThread()` counts in this process: one test allocation is made and
/// must be seen. Checked once per use site (cheap: one malloc).
public func allocationCountingActive() -> Bool { bench_allocation_counting_active() != 0 }

/// Resets the kernel's resident-set high-water mark (VmHWM) to the current resident set, so the
/// next `peakResidentBytes()` is the peak of what runs in between. False where not possible.
@discardableResult
public func resetPeakResident() -> Bool { bench_reset_peak_resident() == 0 }

/// VmHWM from /proc/self/status in bytes: the largest resident set since start or the last
/// `resetPeakResident()`; 0 where unavailable.
public func peakResidentBytes() -> Int { Int(bench_vm_hwm()) }

/// The whole process's peak memory by both kernel views, plus the peak across resets.
public func processMemory() -> ProcessMemory {
    ProcessMemory(ruMaxRSSBytes: Int(bench_ru_maxrss()), vmHWMBytes: Int(bench_vm_hwm()),
                  lifetimePeakBytes: Int(bench_lifetime_peak_resident()))
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
