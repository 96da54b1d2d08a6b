// Allocation counting for subterra-compare: the executable's own malloc, calloc, realloc,
// memalign, aligned_alloc and posix_memalign take precedence over glibc's for every library in
// the process (ELF symbol lookup starts at the executable), count one call on the calling
// thread, and forward to glibc's exported __libc_* entry points. free, valloc and the rest are
// glibc's own: the blocks are glibc's, so no bookkeeping is needed. Only glibc is supported.
#include "CMallocCount.h"
#include <errno.h>  // first: defines __GLIBC__ (through features.h), tested below
#include <stddef.h>
#include <stdint.h>

#if defined(__linux__) && defined(__GLIBC__)

extern __attribute__((tls_model("initial-exec"))) __thread uint64_t bench_allocation_calls;

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

void *malloc(size_t n) {
  bench_allocation_calls++;
  return __libc_malloc(n);
}

void *calloc(size_t count, size_t n) {
  bench_allocation_calls++;
  return __libc_calloc(count, n);
}

void *realloc(void *p, size_t n) {
  bench_allocation_calls++;
  return __libc_realloc(p, n);
}

void *memalign(size_t alignment, size_t n) {
  bench_allocation_calls++;
  return __libc_memalign(alignment, n);
}

void *aligned_alloc(size_t alignment, size_t n) {
  bench_allocation_calls++;
  return __libc_memalign(alignment, n);
}

int posix_memalign(void **out, size_t alignment, size_t n) {
  // The checks glibc makes: a power of two that is a multiple of sizeof(void *).
  if (alignment == 0 || alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
  bench_allocation_calls++;
  void *p = __libc_memalign(alignment, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

int bench_malloc_count_linked(void) { return 1; }
#else
int bench_malloc_count_linked(void) { return 0; }
#endif
