/* shard: stable FNV-1a split of the retirement queue (see shard.h). */
#include "engine/shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses a run of decimal digits starting at s into *out; returns the end pointer or NULL. */
static const char *parse_uint(const char *s, long *out)
{
    if (*s < '0' || *s > '9') return NULL;
    long v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s - '0');
        if (v > 1000000) return NULL;
        s++;
    }
    *out = v;
    return s;
}

int shard_parse(const char *spec, shard_spec *out, char *err, size_t err_len)
{
    long i = 0, n = 0;
    const char *p = spec ? parse_uint(spec, &i) : NULL;
    if (!p || *p != '/' || !(p = parse_uint(p + 1, &n)) || *p != '\0') {
        snprintf(err, err_len,
                 "--shard \"%s\": expected I/N with whole numbers, e.g. 0/4 (shards are numbered "
                 "from 0, so with N shards I is 0..N-1)",
                 spec ? spec : "");
        return -1;
    }
    if (n < 1 || n > SHARD_MAX_COUNT) {
        snprintf(err, err_len, "--shard \"%s\": the number of shards N must be 1..%d", spec,
                 SHARD_MAX_COUNT);
        return -1;
    }
    if (i >= n) {
        snprintf(err, err_len,
                 "--shard \"%s\": the shard index must be 0..%ld (shards are numbered from 0)", spec,
                 n - 1);
        return -1;
    }
    out->index = (int)i;
    out->count = (int)n;
    return 0;
}

uint64_t shard_hash(const char *username)
{
    uint64_t h = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *)username; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

int shard_of(const char *username, int n)
{
    if (n <= 1 || !username) return 0;
    return (int)(shard_hash(username) % (uint64_t)n);
}

int shard_contains(const shard_spec *s, const char *username)
{
    if (!s || s->count <= 1) return 1;
    return shard_of(username, s->count) == s->index;
}

char *shard_format(const shard_spec *s, char *buf, size_t buf_len)
{
    snprintf(buf, buf_len, "%d/%d", s ? s->index : 0, s ? s->count : 1);
    return buf;
}
