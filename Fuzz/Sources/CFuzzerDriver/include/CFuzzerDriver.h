#ifndef SUBTERRA_CFUZZERDRIVER_H
#define SUBTERRA_CFUZZERDRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt, LLVM 11+): runs the fuzzing loop with `callback` as the
/// target, taking the usual libFuzzer command line. The fuzz targets call it from the `main`
/// that SwiftPM links executables with, since SwiftPM renames an executable's entry point.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
