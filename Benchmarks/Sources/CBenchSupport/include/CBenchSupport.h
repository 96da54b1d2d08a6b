#ifndef SUBTERRA_BENCH_SUPPORT_H
#define SUBTERRA_BENCH_SUPPORT_H
// glibc heap statistics that Swift's Glibc module does not export (<malloc.h>).
#include <stddef.h>

/// Heap bytes in use: mallinfo2's uordblks (arena) plus hblkhd (mmapped blocks); 0 off glibc.
size_t bench_heap_in_use(void);
/// Returns free heap memory to the kernel (malloc_trim(0)); no-op off glibc.
void bench_heap_trim(void);
#endif
