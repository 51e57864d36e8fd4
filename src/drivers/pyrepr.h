/* pyrepr (prefix pyrepr_): what Python's str() prints for the value json.loads() gives, so
 * the texts recorded at the LMS match the upstream scripts byte for byte (docs/lms-api.md §7.2, §9.1):
 * {'id': 1, 'ok': True, 'x': None}, ['edX', 'MITx'], strings quoted and escaped as Python's
 * repr does, ints as written, floats in Python's shortest round-trip form. Also the requests
 * library's HTTPError text. Pure functions; results are malloc'd (caller frees). */
#ifndef RETIRECTL_PYREPR_H
#define RETIRECTL_PYREPR_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* Python str() of the value encoded by JSON text (len bytes; 0 = strlen): the repr of dicts,
 * lists, numbers, True/False/None, and the text itself for a top-level string. NULL when the
 * text is not valid JSON (Python would raise JSONDecodeError). */
char *pyrepr_json(const char *json, size_t len);
/* The message of the JSONDecodeError that requests' response.json() (CPython json.loads,
 * strict) raises for this body, e.g. "Expecting value: line 1 column 1 (char 0)"; NULL when
 * the body is valid JSON. */
char *pyrepr_json_error(const char *json, size_t len);
/* Python repr of a UTF-8 string (with quotes). */
char *pyrepr_str(const char *s);
/* requests' HTTPError text: "<code> Client Error: <Reason> for url: <url>" (4xx) or
 * "<code> Server Error: <Reason> for url: <url>" (5xx). */
char *pyrepr_http_error(long status, const char *url);

/* Python json.dumps(value) of the value json.loads gives for v: separators ", " and ": ",
 * ensure_ascii, integral numbers as ints, others as float repr, NaN/Infinity as Python
 * writes them; sort_keys as json.dumps(sort_keys=True). */
char *pyrepr_dumps(const cJSON *v, int sort_keys);
/* Python repr() of the value json.loads gives for v ({'a': 1, 'b': None}, 'text', 1.5). */
char *pyrepr_value(const cJSON *v);

#endif
