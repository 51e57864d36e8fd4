/* shard (prefix shard_): a stable split of the retirement queue across N machines.
 *
 * A shard is written "I/N" with I numbered from 0: shards 0/N .. (N-1)/N. 0-based so that
 * a Kubernetes Indexed Job can pass `--shard $JOB_COMPLETION_INDEX/N` as is. N is 1..1024.
 *
 * A learner belongs to shard FNV-1a-64(original username, bytes as given) mod N. The hash
 * depends on nothing but the username, so N machines given the same N and every I in
 * 0..N-1 share the queue with no overlap and no gap, whatever order the LMS returns it in
 * and whichever machine asks first. */
#ifndef RETIRECTL_SHARD_H
#define RETIRECTL_SHARD_H

#include <stddef.h>
#include <stdint.h>

#define SHARD_MAX_COUNT 1024

/* One shard: index in 0..count-1 of count shards. {0, 1} is "everything". */
typedef struct shard_spec {
    int index;
    int count;
} shard_spec;

/* Parses "I/N" (decimal, no sign, no spaces, 0 <= I < N <= SHARD_MAX_COUNT) into *out.
 * Returns 0, or -1 with a sentence in err naming the text and what is expected, e.g.
 * `--shard "4/4": the shard index must be 0..3 (shards are numbered from 0)`. */
int shard_parse(const char *spec, shard_spec *out, char *err, size_t err_len);

/* FNV-1a 64-bit hash of a NUL-terminated string. */
uint64_t shard_hash(const char *username);

/* Which shard (0..n-1) a learner with this original username belongs to; 0 when n <= 1. */
int shard_of(const char *username, int n);

/* Non-zero when username belongs to shard s (always true for count <= 1 or s == NULL). */
int shard_contains(const shard_spec *s, const char *username);

/* Writes "I/N" into buf (for messages and audit lines). Returns buf. */
char *shard_format(const shard_spec *s, char *buf, size_t buf_len);

#endif
