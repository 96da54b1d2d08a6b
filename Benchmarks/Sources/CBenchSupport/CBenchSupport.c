#include "CBenchSupport.h"
#if defined(__linux__)  // glibc (the only Linux libc this project targets)
#include <malloc.h>
size_t bench_heap_in_use(void) {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}
void bench_heap_trim(void) { malloc_trim(0); }
#else
size_t bench_heap_in_use(void) { return 0; }
void bench_heap_trim(void) {}
#endif
