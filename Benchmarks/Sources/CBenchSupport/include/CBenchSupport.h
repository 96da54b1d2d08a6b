#ifndef SUBTERRA_BENCH_SUPPORT_H
#define SUBTERRA_BENCH_SUPPORT_H
// glibc heap statistics that Swift's Glibc module does not export (<malloc.h>), the per-thread
// allocation counter that subterra-compare's malloc interposer (CMallocCount) increments, and the
// kernel's resident-set high-water mark.
#include <stddef.h>
#include <stdint.h>

/// Heap bytes in use: mallinfo2's uordblks (arena) plus hblkhd (mmapped blocks); 0 off glibc.
size_t bench_heap_in_use(void);
/// Returns free heap memory to the kernel (malloc_trim(0)); no-op off glibc.
void bench_heap_trim(void);

/// Allocation calls (malloc, calloc, realloc, memalign, aligned_alloc, posix_memalign) made by
/// the calling thread since it started. Stays 0 unless the process links CMallocCount.
uint64_t bench_allocations_on_this_thread(void);
/// 1 when an allocation made now is counted (the interposer is linked and wins symbol lookup).
int bench_allocation_counting_active(void);

/// The resident set's high-water mark in bytes (/proc/self/status VmHWM); 0 where unavailable.
int64_t bench_vm_hwm(void);
/// getrusage(RUSAGE_SELF) ru_maxrss in bytes.
int64_t bench_ru_maxrss(void);
/// Resets VmHWM to the current resident set (writes "5" to /proc/self/clear_refs, Linux >= 4.0),
/// first folding the old mark into the lifetime peak. Returns 0 on success, -1 if not possible.
int bench_reset_peak_resident(void);
/// The largest VmHWM seen over the process's life, across resets.
int64_t bench_lifetime_peak_resident(void);
#endif
