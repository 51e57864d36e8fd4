/* hostsvc: hashing, base64, AWS SigV4 and URL append for drivers (see hostsvc.h). */
#include "engine/hostsvc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "common/strbuf.h"
#include "common/urlencode.h"
#include "common/xalloc.h"

void hsvc_sha256(const void *data, size_t len, unsigned char out[32])
{
    SHA256(data ? data : (const void *)"", len, out);
}

void hsvc_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key ? key : "", (int)key_len, data ? data : (const void *)"", len, out, &n);
}

char *hsvc_base64(const void *data, size_t len)
{
    char *out = xmalloc(4 * ((len + 2) / 3) + 1);
    if (!out) return NULL;
    EVP_EncodeBlock((unsigned char *)out, data ? data : (const void *)"", (int)len);
    return out;
}

char *hsvc_url_append(const char *base, const char *path)
{
    const char *b = base ? base : "", *p = path ? path : "";
    size_t bl = strlen(b);
    while (bl && b[bl - 1] == '/') bl--;
    while (*p == '/') p++;
    strbuf sb = STRBUF_INIT;
    sb_addn(&sb, b, bl);
    sb_addc(&sb, '/');
    sb_add(&sb, p);
    return sb_take(&sb);
}

/* Lower-case hex SHA-256 of len bytes into out[65]. */
static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[32];
    hsvc_sha256(data, len, d);
    rd_hex(d, 32, out);
}

/* One header of the canonical request. */
typedef struct canon_header {
    char *name;  /* lower case */
    char *value; /* trimmed, inner runs of spaces collapsed */
} canon_header;

static int cmp_header(const void *a, const void *b)
{
    return strcmp(((const canon_header *)a)->name, ((const canon_header *)b)->name);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits "Name: value" into a canonical header; 0 or -1 when there is no colon. */
static int canon_of(const char *line, canon_header *h)
{
    const char *colon = strchr(line, ':');
    if (!colon) return -1;
    h->name = xstrndup(line, (size_t)(colon - line));
    for (char *c = h->name; *c; c++) *c = (char)tolower((unsigned char)*c);
    strbuf v = STRBUF_INIT;
    const char *p = colon + 1;
    while (*p == ' ' || *p == '\t') p++;
    int space = 0;
    for (; *p; p++) {
        if (*p == ' ' || *p == '\t') {
            space = 1;
            continue;
        }
        if (space && v.len) sb_addc(&v, ' ');
        space = 0;
        sb_addc(&v, *p);
    }
    h->value = sb_take(&v);
    return 0;
}

/* Splits url into host[:port] (as the Host header carries it), path and query (malloc'd). */
static int split_url(const char *url, char **host, char **path, char **query)
{
    const char *p = strstr(url, "://");
    if (!p) return -1;
    p += 3;
    size_t hl = strcspn(p, "/?#");
    *host = xstrndup(p, hl);
    p += hl;
    size_t pl = strcspn(p, "?#");
    *path = pl ? xstrndup(p, pl) : xstrdup("/");
    p += pl;
    *query = *p == '?' ? xstrndup(p + 1, strcspn(p + 1, "#")) : xstrdup("");
    /* the default port is not part of the Host header */
    size_t n = strlen(*host);
    if (strncmp(url, "https://", 8) == 0 && n > 4 && strcmp(*host + n - 4, ":443") == 0) (*host)[n - 4] = '\0';
    if (strncmp(url, "http://", 7) == 0 && n > 3 && strcmp(*host + n - 3, ":80") == 0) (*host)[n - 3] = '\0';
    return 0;
}

/* The canonical query string: pairs sorted (they are taken as already encoded). */
static void canonical_query(strbuf *sb, const char *query)
{
    size_t n = 0, cap = 8;
    char **pairs = xmalloc(cap * sizeof *pairs);
    char *copy = xstrdup(query), *save = NULL;
    for (char *t = strtok_r(copy, "&", &save); t; t = strtok_r(NULL, "&", &save)) {
        if (n == cap) pairs = xrealloc(pairs, (cap *= 2) * sizeof *pairs);
        strbuf w = STRBUF_INIT;
        sb_addf(&w, "%s%s", t, strchr(t, '=') ? "" : "="); /* "a" is signed as "a=" */
        pairs[n++] = sb_take(&w);
    }
    qsort(pairs, n, sizeof *pairs, cmp_str);
    for (size_t i = 0; i < n; i++) {
        sb_addf(sb, "%s%s", i ? "&" : "", pairs[i]);
        free(pairs[i]);
    }
    free(pairs);
    free(copy);
}

char *hsvc_aws_sigv4(const rd_aws_sigv4 *r, char *err, size_t err_len)
{
    if (!r || r->struct_size < RD_SIZEOF(rd_aws_sigv4) || !r->method || !r->url || !r->access_key_id ||
        !r->secret_access_key || !r->region || !r->service || !r->amz_date || strlen(r->amz_date) != 16) {
        snprintf(err, err_len,
                 "aws_sigv4 needs struct_size = RD_SIZEOF(rd_aws_sigv4), method, url, access_key_id, "
                 "secret_access_key, region, service and amz_date (YYYYMMDDTHHMMSSZ)");
        return NULL;
    }
    char *host = NULL, *path = NULL, *query = NULL;
    if (split_url(r->url, &host, &path, &query) != 0) {
        snprintf(err, err_len, "aws_sigv4: %s is not an absolute URL", r->url);
        return NULL;
    }
    size_t nh = 1;
    for (size_t i = 0; r->headers && r->headers[i]; i++) nh++;
    canon_header *hs = xcalloc(nh, sizeof *hs);
    size_t k = 0;
    hs[k].name = xstrdup("host");
    hs[k++].value = xstrdup(host);
    for (size_t i = 0; r->headers && r->headers[i]; i++) {
        canon_header h;
        if (canon_of(r->headers[i], &h) != 0) continue;
        if (strcmp(h.name, "host") == 0 || strcmp(h.name, "authorization") == 0) {
            free(h.name);
            free(h.value);
            continue;
        }
        hs[k++] = h;
    }
    qsort(hs, k, sizeof *hs, cmp_header);
    strbuf creq = STRBUF_INIT, signed_headers = STRBUF_INIT;
    sb_addf(&creq, "%s\n", r->method);
    url_encode_add(&creq, path, strlen(path), "/", 0);
    sb_add(&creq, "\n");
    canonical_query(&creq, query);
    sb_add(&creq, "\n");
    for (size_t i = 0; i < k; i++) {
        sb_addf(&creq, "%s:%s\n", hs[i].name, hs[i].value);
        sb_addf(&signed_headers, "%s%s", i ? ";" : "", hs[i].name);
    }
    char payload[65], creq_hash[65];
    size_t blen = r->body ? (r->body_len ? r->body_len : strlen(r->body)) : 0;
    sha256_hex(r->body ? r->body : "", blen, payload);
    sb_addf(&creq, "\n%s\n%s", sb_str(&signed_headers), payload);
    sha256_hex(sb_str(&creq), creq.len, creq_hash);
    char date[9];
    memcpy(date, r->amz_date, 8);
    date[8] = '\0';
    strbuf sts = STRBUF_INIT;
    sb_addf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", r->amz_date, date, r->region, r->service,
            creq_hash);
    strbuf kinit = STRBUF_INIT;
    sb_addf(&kinit, "AWS4%s", r->secret_access_key);
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    hsvc_hmac_sha256(sb_str(&kinit), kinit.len, date, 8, k1);
    hsvc_hmac_sha256(k1, 32, r->region, strlen(r->region), k2);
    hsvc_hmac_sha256(k2, 32, r->service, strlen(r->service), k3);
    hsvc_hmac_sha256(k3, 32, "aws4_request", 12, k4);
    hsvc_hmac_sha256(k4, 32, sb_str(&sts), sts.len, sig);
    char sig_hex[65];
    rd_hex(sig, 32, sig_hex);
    strbuf out = STRBUF_INIT;
    sb_addf(&out, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
            r->access_key_id, date, r->region, r->service, sb_str(&signed_headers), sig_hex);
    memset(kinit.data, 0, kinit.len);
    sb_free(&kinit);
    for (size_t i = 0; i < k; i++) {
        free(hs[i].name);
        free(hs[i].value);
    }
    free(hs);
    free(host);
    free(path);
    free(query);
    sb_free(&creq);
    sb_free(&signed_headers);
    sb_free(&sts);
    return sb_take(&out);
}
