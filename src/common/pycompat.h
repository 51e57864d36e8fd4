/* pycompat (prefix py_): text exactly as CPython prints it, for the texts retirectl must
 * match byte for byte (the messages recorded at the LMS, docs/lms-api.md §7.2, and the
 * simulator's error bodies): repr() of floats and strings, str.isprintable(), json.dumps().
 * Shared by the engine, the drivers and the simulator; depends on libc and cJSON only (no
 * engine code). Checked against outputs recorded from Python (tests/fixtures/pycompat.tsv,
 * written by scripts/gen-pycompat-fixture.py). Results that are strings are malloc'd (caller
 * frees) and never NULL (out of memory follows common/xalloc.h). */
#ifndef RETIRECTL_PYCOMPAT_H
#define RETIRECTL_PYCOMPAT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Room py_float_repr needs, NUL included ("-2.2250738585072014e-308"). */
#define PY_FLOAT_REPR_MAX 32

/* Python repr(v): the shortest digits that read back as v, fixed notation when the decimal
 * exponent is from -4 to 15 ("0.1", "100.0", "1e-05", "1e+16"), "inf", "-inf", "nan".
 * Writes into out (PY_FLOAT_REPR_MAX bytes) and returns out. */
char *py_float_repr(double v, char out[PY_FLOAT_REPR_MAX]);

/* Python's str.isprintable() for one code point (generated table, src/common/unicode_printable.c,
 * of the Unicode version py_unicode_version). Unassigned code points are not printable. */
int py_isprintable(uint32_t c);
extern const char py_unicode_version[];

/* Python repr() of a str given as code points (lone surrogates allowed): quotes chosen as
 * Python does, \\ \t \n \r and the quote escaped, other unprintable code points as \xhh, \uhhhh
 * or \Uhhhhhhhh, everything else as UTF-8. */
char *py_repr_codepoints(const uint32_t *cp, size_t n);
/* The same for a UTF-8 string (ill-formed bytes read as U+FFFD, as errors='replace' does: one
 * per maximal ill-formed subpart, common/utf8.h). */
char *py_repr_str(const char *utf8);

/* Writes code point c as UTF-8 into out (room for 4 bytes) and returns the length. */
size_t py_utf8_put(uint32_t c, char out[4]);

/* Python json.dumps(value) with the default settings: ", " and ": " separators, ensure_ascii
 * (\uXXXX, surrogate pairs above U+FFFF), floats as repr (Infinity, NaN). cJSON keeps no
 * int/float distinction: an integral number below 2^53 in magnitude is written as an int. */
char *py_json_dumps(const cJSON *value);
/* json.dumps of one string (with its quotes). */
char *py_json_quote(const char *utf8);
/* Python repr() of the value json.loads would give (str() for containers): {'a': 0.1},
 * ['x', 1], True, None; numbers as in py_json_dumps but inf/nan as Python spells them. */
char *py_repr_json(const cJSON *value);

#endif
