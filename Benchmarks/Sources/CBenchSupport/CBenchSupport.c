#include "CBenchSupport.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

// Incremented by CMallocCount's malloc family; initial-exec TLS so the increment is one
// thread-pointer-relative add that never allocates (a general-dynamic access could call
// __tls_get_addr, which may itself allocate).
__attribute__((tls_model("initial-exec"))) __thread uint64_t bench_allocation_calls = 0;

uint64_t bench_allocations_on_this_thread(void) { return bench_allocation_calls; }

int bench_allocation_counting_active(void) {
  uint64_t before = bench_allocation_calls;
  // volatile: the compiler may otherwise drop a malloc/free pair whose result is unused.
  void *volatile p = malloc(24);
  free(p);
  return bench_allocation_calls > before;
}

#if defined(__linux__)  // glibc (the only Linux libc this project targets)
#include <malloc.h>
size_t bench_heap_in_use(void) {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}
void bench_heap_trim(void) { malloc_trim(0); }

int64_t bench_vm_hwm(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  long long kb = 0;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "VmHWM:", 6) == 0) { sscanf(line + 6, "%lld", &kb); break; }
  }
  fclose(f);
  return (int64_t)kb * 1024;
}

static int64_t lifetime_peak = 0;  // touched only by the benchmark's main thread

int bench_reset_peak_resident(void) {
  int64_t now = bench_vm_hwm();
  if (now > lifetime_peak) lifetime_peak = now;
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (!f) return -1;
  int ok = fputs("5", f) >= 0;
  return (fclose(f) == 0 && ok) ? 0 : -1;
}

int64_t bench_lifetime_peak_resident(void) {
  int64_t now = bench_vm_hwm();
  return now > lifetime_peak ? now : lifetime_peak;
}
#else
size_t bench_heap_in_use(void) { return 0; }
void bench_heap_trim(void) {}
int64_t bench_vm_hwm(void) { return 0; }
int bench_reset_peak_resident(void) { return -1; }
int64_t bench_lifetime_peak_resident(void) { return 0; }
#endif

int64_t bench_ru_maxrss(void) {
  struct rusage u;
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
#if defined(__APPLE__)
  return (int64_t)u.ru_maxrss;  // bytes on Darwin
#else
  return (int64_t)u.ru_maxrss * 1024;  // kilobytes on Linux
#endif
}
