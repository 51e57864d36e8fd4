/* archive: the JSON-lines retirement archive, its field modes and gzip (see archive.h). */
#include "engine/archive.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include "engine/config.h"
#include "engine/lms.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

static const char *const FIELD_NAMES[] = {"full", "hashed", "ids"};

int archive_fields_parse(const char *text, archive_fields *out)
{
    if (!text) {
        *out = ARCHIVE_FULL;
        return 0;
    }
    for (int i = 0; i < 3; i++) {
        if (strcmp(text, FIELD_NAMES[i]) == 0) {
            *out = (archive_fields)i;
            return 0;
        }
    }
    return -1;
}

const char *archive_fields_name(archive_fields f)
{
    return (unsigned)f < 3 ? FIELD_NAMES[f] : "?";
}

int archive_settings(const cfg *c, archive_fields *fields, const char **secret, char *err, size_t err_len)
{
    const char *f = cfg_string(c, "s3_archive.fields");
    if (archive_fields_parse(f, fields) != 0) {
        snprintf(err, err_len, "%s:%d: s3_archive.fields is \"%s\": use full, hashed or ids", c->path,
                 cfg_line(c, "s3_archive.fields", NULL), f);
        return -1;
    }
    *secret = cfg_string(c, "s3_archive.hash_secret");
    if (*fields == ARCHIVE_HASHED && (!*secret || strlen(*secret) < 16)) {
        snprintf(err, err_len,
                 "%s:%d: s3_archive.fields is hashed, so s3_archive.hash_secret must be set to a secret of at least "
                 "16 characters (keep it: it is what lets you look a known value up later)",
                 c->path, cfg_line(c, "s3_archive.fields", NULL));
        return -1;
    }
    return 0;
}

char *archive_timestamp(const char *iso)
{
    char *s = xstrdup(iso ? iso : "");
    if (!s) return NULL;
    for (char *p = s; *p; p++)
        if (*p == 'T') *p = ' ';
    size_t n = strlen(s);
    while (n && s[n - 1] == 'Z') s[--n] = '\0';
    return s;
}

int archive_hash(const char *secret, const char *value, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)value, strlen(value), md, &md_len) ||
        md_len != 32) {
        out[0] = '\0';
        return -1;
    }
    for (unsigned i = 0; i < md_len; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* Copies learner[key] into rec under the same key; -1 when the key is absent. */
static int copy_field(cJSON *rec, const cJSON *learner, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(learner, key);
    if (!v) return -1;
    cJSON_AddItemToObject(rec, key, cJSON_Duplicate(v, 1));
    return 0;
}

/* Adds key: HMAC of learner[key] (a string), or a copy of a null. -1 when absent or not text. */
static int hash_field(cJSON *rec, const cJSON *learner, const char *key, const char *secret)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(learner, key);
    if (cJSON_IsNull(v)) {
        cJSON_AddNullToObject(rec, key);
        return 0;
    }
    char hex[65];
    if (!cJSON_IsString(v) || archive_hash(secret, v->valuestring, hex) != 0) return -1;
    cJSON_AddStringToObject(rec, key, hex);
    return 0;
}

/* Adds key: archive_timestamp(learner[from]); -1 when absent or not a string. */
static int date_field(cJSON *rec, const cJSON *learner, const char *from, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(learner, from);
    if (!cJSON_IsString(v)) return -1;
    char *t = archive_timestamp(v->valuestring);
    cJSON_AddStringToObject(rec, key, t ? t : "");
    free(t);
    return 0;
}

/* One archive record for a learner in the field mode; NULL with *missing naming the key. */
static cJSON *record(const cJSON *learner, archive_fields fields, const char *secret, const char **missing)
{
    cJSON *rec = cJSON_CreateObject();
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(learner, "user"), "id");
    if (!uid) {
        *missing = "user.id";
        goto bad;
    }
    cJSON_AddItemToObject(rec, "user_id", cJSON_Duplicate(uid, 1));
    static const char *const originals[] = {"original_username", "original_email", "original_name"};
    static const char *const retired[] = {"retired_username", "retired_email"};
    if (fields != ARCHIVE_IDS) {
        for (int i = 0; i < 3; i++) {
            int rc = fields == ARCHIVE_HASHED ? hash_field(rec, learner, originals[i], secret)
                                              : copy_field(rec, learner, originals[i]);
            if (rc != 0) {
                *missing = originals[i];
                goto bad;
            }
        }
        for (int i = 0; i < 2; i++) {
            if (copy_field(rec, learner, retired[i]) != 0) {
                *missing = retired[i];
                goto bad;
            }
        }
    }
    if (date_field(rec, learner, "created", "retirement_request_date") != 0) {
        *missing = "created";
        goto bad;
    }
    if (date_field(rec, learner, "modified", "last_modified_date") != 0) {
        *missing = "modified";
        goto bad;
    }
    return rec;
bad:
    cJSON_Delete(rec);
    return NULL;
}

int archive_lines(const cJSON *learners, archive_fields fields, const char *secret, char **out, size_t *out_len,
                  char *err, size_t err_len)
{
    *out = NULL;
    *out_len = 0;
    if (fields == ARCHIVE_HASHED && (!secret || !*secret)) {
        snprintf(err, err_len, "s3_archive.fields is hashed but s3_archive.hash_secret is not set");
        return -1;
    }
    strbuf sb = STRBUF_INIT;
    const cJSON *l;
    cJSON_ArrayForEach(l, learners)
    {
        const char *missing = "?";
        cJSON *rec = record(l, fields, secret, &missing);
        if (!rec) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(l, "id");
            snprintf(err, err_len,
                     "the LMS's record of retirement id %.0f has no usable \"%s\" (archive field mode %s); "
                     "nothing was archived or deleted",
                     cJSON_IsNumber(id) ? id->valuedouble : -1.0, missing, archive_fields_name(fields));
            sb_free(&sb);
            return -1;
        }
        char *line = lms_json_dumps(rec);
        sb_add(&sb, line);
        sb_addc(&sb, '\n');
        free(line);
        cJSON_Delete(rec);
    }
    *out_len = sb.len;
    *out = sb_take(&sb);
    return 0;
}

int archive_gzip(const char *data, size_t len, const char *name, time_t mtime, unsigned char **out,
                 size_t *out_len, char *err, size_t err_len)
{
    *out = NULL;
    *out_len = 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 16: a gzip wrapper; level 9 and memLevel 8 as Python's gzip module */
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        snprintf(err, err_len, "zlib could not start a gzip stream");
        return -1;
    }
    gz_header h;
    memset(&h, 0, sizeof h);
    char *fname = xstrdup(name ? name : "");
    h.name = (Bytef *)fname;
    h.time = (uLong)mtime;
    h.os = 255; /* "unknown", as Python writes */
    deflateSetHeader(&z, &h);
    uLong bound = deflateBound(&z, (uLong)len) + 64 + (name ? strlen(name) : 0);
    unsigned char *buf = xmalloc(bound);
    if (!buf || !fname) {
        deflateEnd(&z);
        free(buf);
        free(fname);
        snprintf(err, err_len, "out of memory compressing the archive");
        return -1;
    }
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    size_t produced = z.total_out;
    deflateEnd(&z);
    free(fname);
    if (rc != Z_STREAM_END) {
        free(buf);
        snprintf(err, err_len, "zlib could not compress the archive (%d)", rc);
        return -1;
    }
    *out = buf;
    *out_len = produced;
    return 0;
}

void archive_file_name(time_t t, char *out, size_t out_len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    if (!strftime(out, out_len, "retirement_archive_%Y_%d_%m_%H_%M_%S.json.gz", &tm) && out_len) out[0] = '\0';
}

void archive_object_key(time_t t, char *out, size_t out_len)
{
    char name[96];
    archive_file_name(t, name, sizeof name);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, out_len, "raw/%04d/%02d/%s", tm.tm_year + 1900, tm.tm_mon + 1, name);
}
