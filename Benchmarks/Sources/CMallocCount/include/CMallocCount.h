#ifndef SUBTERRA_MALLOC_COUNT_H
#define SUBTERRA_MALLOC_COUNT_H
// Linked only into subterra-compare: replaces glibc's malloc family with thin wrappers that count
// calls per thread (read through CBenchSupport's bench_allocations_on_this_thread) and forward to
// glibc's own implementation. No header is added to blocks, so heap and resident-set figures are
// those of plain glibc. Never link it where package-benchmark's interposer is present.

/// Referenced from Swift so the linker keeps this object; returns 1.
int bench_malloc_count_linked(void);
#endif
