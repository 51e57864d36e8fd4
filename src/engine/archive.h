/* archive (prefix archive_): the retirement archive that `retirectl cleanup` uploads before it
 * deletes COMPLETE retirements from the LMS (docs/operators.md, "Archive format").
 *
 * One JSON object per line, as retirement_archive_and_cleanup.py writes it: keys user_id,
 * original_username, original_email, original_name, retired_username, retired_email,
 * retirement_request_date, last_modified_date, rendered like Python's json.dumps (", " and
 * ": " separators, non-ASCII as \uXXXX); the two dates are the LMS's `created` / `modified`
 * with 'T' made a space and trailing 'Z's removed ("2018-10-18 20:35:52.349757").
 * The field mode (config s3_archive.fields) decides what is kept:
 *   full    upstream's eight fields (the default);
 *   hashed  the same keys, but original_username / original_email / original_name hold the
 *           lowercase hex HMAC-SHA256 of the value keyed with s3_archive.hash_secret, so a
 *           deletion can be confirmed for a known value (archive_hash) without keeping it;
 *   ids     user_id, retirement_request_date and last_modified_date only.
 * The whole archive is gzip'd in memory (archive_gzip); it never touches the local disk. */
#ifndef RETIRECTL_ARCHIVE_H
#define RETIRECTL_ARCHIVE_H

#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

typedef enum archive_fields { ARCHIVE_FULL = 0, ARCHIVE_HASHED, ARCHIVE_IDS } archive_fields;

/* Parses "full" / "hashed" / "ids" (NULL means full). Returns 0, or -1 for anything else. */
int archive_fields_parse(const char *text, archive_fields *out);
const char *archive_fields_name(archive_fields f);

struct cfg;
/* Reads s3_archive.fields and s3_archive.hash_secret (16+ characters, required by hashed) from
 * the config. Returns 0, or -1 with err naming the file, line and key. *secret is borrowed. */
int archive_settings(const struct cfg *c, archive_fields *fields, const char **secret, char *err, size_t err_len);

/* The Athena-friendly form of an LMS timestamp: 'T' -> ' ', trailing 'Z's removed (malloc'd). */
char *archive_timestamp(const char *iso);

/* Lowercase hex HMAC-SHA256 of value keyed with secret into out (65 bytes). 0, or -1 when
 * libcrypto fails. */
int archive_hash(const char *secret, const char *value, char out[65]);

/* Appends one line per learner (status objects of retirements_by_status_and_date, docs/lms-api.md §2.5)
 * to a malloc'd text (*out, *out_len; the caller frees). secret is used by ARCHIVE_HASHED
 * only. Returns 0, or -1 with err naming the retirement id and the missing key. */
int archive_lines(const cJSON *learners, archive_fields fields, const char *secret, char **out, size_t *out_len,
                  char *err, size_t err_len);

/* gzip of data as Python's gzip.open(name, 'wt') writes it: level 9, the original file name
 * `name` (the archive's file name without ".gz") and mtime in the header. *out malloc'd.
 * Returns 0, or -1 with err. */
int archive_gzip(const char *data, size_t len, const char *name, time_t mtime, unsigned char **out,
                 size_t *out_len, char *err, size_t err_len);

/* File name "retirement_archive_<%Y_%d_%m_%H_%M_%S of t in UTC>.json.gz" (upstream's order:
 * day before month) and S3 key "raw/<%Y>/<%m>/<file name>". */
void archive_file_name(time_t t, char *out, size_t out_len);
void archive_object_key(time_t t, char *out, size_t out_len);

#endif
