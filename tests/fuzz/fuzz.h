/* Shared by the fuzz targets of tests/fuzz/: each target defines LLVMFuzzerTestOneInput; it is
 * built with clang's libFuzzer by scripts/fuzz.sh, and with replay.c (any compiler) into a
 * program that ctest runs over the target's seed corpus and every crash kept as a regression. */
#ifndef RETIRECTL_FUZZ_H
#define RETIRECTL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (malloc'd; embedded NULs cut it short, as in C callers). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
