/* history, a job as the values of its row: what the supervisor sends its writer process
 * (history_writer.c) and what hist_save binds. The supervisor encodes each record once into a
 * compact frame (lengths, then bytes: nothing to parse, no number formatting beyond integers);
 * the writer keeps the frame and binds its values as they are. Cheap on purpose: a bulk run
 * records thousands of jobs, and the supervisor's loop is every worker's critical path. */
#include "engine/history_internal.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/xalloc.h"

/* A field's length when it is SQL NULL. */
#define NULL_FIELD UINT32_MAX

/* Appends a 32-bit length in host order (the frame never leaves this machine). */
static void add_u32(strbuf *sb, uint32_t v)
{
    sb_addn(sb, (const char *)&v, sizeof v);
}

/* One field: its length and bytes plus a NUL (the writer binds it in place), or NULL. */
static void add_field(strbuf *sb, const char *s)
{
    if (!s) {
        add_u32(sb, NULL_FIELD);
        return;
    }
    size_t n = strlen(s);
    add_u32(sb, (uint32_t)n);
    sb_addn(sb, s, n + 1);
}

/* v in decimal into b (>= 21 bytes), NUL-terminated; its length. (printf is the costliest part
 * of a record otherwise.) */
static size_t decimal(long long v, char *b)
{
    char tmp[24];
    size_t k = 0, n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) b[n++] = '-';
    while (k) b[n++] = tmp[--k];
    b[n] = '\0';
    return n;
}

/* A number field, or NULL when absent. */
static void add_num(strbuf *sb, long long v, int present)
{
    char b[24];
    if (present) decimal(v, b);
    add_field(sb, present ? b : NULL);
}

/* Appends key (a literal with its quotes and colon) and v. */
static void add_json_num(strbuf *sb, const char *key, long long v)
{
    char b[24];
    sb_add(sb, key);
    sb_addn(sb, b, decimal(v, b));
}

/* s as a JSON string (quoted, escaped as cJSON prints it). */
static void add_json_string(strbuf *sb, const char *s)
{
    sb_addc(sb, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *esc = *p == '"' ? "\\\"" : *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : *p == '\r' ? "\\r"
                        : *p == '\t' ? "\\t" : *p == '\b' ? "\\b" : *p == '\f' ? "\\f" : NULL;
        if (esc) {
            sb_add(sb, esc);
        } else if (*p < 0x20) {
            sb_addf(sb, "\\u%04x", *p);
        } else {
            size_t run = 1; /* copy plain runs at once */
            while (p[run] >= 0x20 && p[run] != '"' && p[run] != '\\') run++;
            sb_addn(sb, (const char *)p, run);
            p += run - 1;
        }
    }
    sb_addc(sb, '"');
}

/* Adds key (a literal: ,"name":) and s as a JSON string, when s is set. */
static void add_json_member(strbuf *sb, const char *key, const char *s)
{
    if (!s) return;
    sb_add(sb, key);
    add_json_string(sb, s);
}

/* The steps column: the same JSON array hist_steps_json describes, written directly. */
static void add_steps_text(strbuf *sb, const hist_job *j)
{
    sb_addc(sb, '[');
    for (size_t i = 0; i < j->n_steps; i++) {
        const hist_step *s = &j->steps[i];
        add_json_num(sb, i ? ",{\"index\":" : "{\"index\":", s->index);
        add_json_member(sb, ",\"start_state\":", s->start_state);
        add_json_member(sb, ",\"end_state\":", s->end_state);
        add_json_member(sb, ",\"driver\":", s->driver);
        add_json_member(sb, ",\"method\":", s->method);
        add_json_member(sb, ",\"status\":", s->status);
        if (s->duration_ms >= 0) add_json_num(sb, ",\"duration_ms\":", s->duration_ms);
        if (s->attempts > 0) add_json_num(sb, ",\"attempts\":", s->attempts);
        sb_addc(sb, '}');
    }
    sb_addc(sb, ']');
}

void hist_row_encode(const hist_job *j, strbuf *out)
{
    size_t at = out->len;
    add_u32(out, 0); /* the frame's length, filled in below */
    sb_addc(out, j->stored ? 1 : 0);
    int ended = j->outcome != NULL;
    /* in the order of HIST_JOB_COLS */
    add_num(out, j->id, 1);
    add_num(out, j->lms_user_id, j->lms_user_id >= 0);
    add_num(out, j->retirement_id, j->retirement_id >= 0);
    add_field(out, j->action ? j->action : "?");
    add_field(out, j->command);
    add_field(out, j->reason);
    add_field(out, j->operator_name);
    add_field(out, j->host);
    add_num(out, j->pid, j->pid > 0);
    add_num(out, j->started_ms, 1);
    add_num(out, j->ended_ms, ended && j->ended_ms > 0);
    add_field(out, j->outcome);
    add_num(out, j->exit_status, ended);
    add_field(out, j->from_state);
    add_field(out, j->final_state);
    add_field(out, j->message);
    add_num(out, j->fail_step, j->fail_step >= 0);
    add_field(out, j->fail_driver);
    add_field(out, j->fail_method);
    add_field(out, j->fail_request);
    add_num(out, j->fail_http_status, j->fail_http_status > 0);
    add_field(out, j->fail_server_text);
    add_field(out, j->fail_transport);
    add_num(out, j->fail_attempts, j->fail_attempts > 0);
    if (j->n_steps) {
        strbuf steps = STRBUF_INIT;
        add_steps_text(&steps, j);
        add_field(out, sb_str(&steps));
        sb_free(&steps);
    } else {
        add_field(out, NULL);
    }
    uint32_t len = (uint32_t)(out->len - at - sizeof len);
    memcpy(out->data + at, &len, sizeof len);
}

/* Reads a 32-bit length at p. */
static uint32_t get_u32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

long hist_row_decode(const char *data, size_t len, hist_row **out)
{
    *out = NULL;
    if (len < 4) return 0;
    uint32_t body = get_u32(data);
    if (len - 4 < body) return 0; /* not all here yet */
    hist_row *r = xcalloc(1, sizeof *r);
    r->frame = xmalloc(body ? body : 1);
    memcpy(r->frame, data + 4, body);
    size_t at = 1;
    if (body < at) goto bad; /* not even the stored flag */
    r->stored = r->frame[0] == 1;
    for (size_t c = 0; c < HIST_N_COLS; c++) {
        if (body - at < 4) goto bad;
        uint32_t n = get_u32(r->frame + at);
        at += 4;
        if (n == NULL_FIELD) continue;
        if (body - at < (size_t)n + 1 || r->frame[at + n] != '\0') goto bad;
        r->v[c] = r->frame + at;
        at += (size_t)n + 1;
    }
    if (at != body || !r->v[0]) goto bad;
    r->id = strtoll(r->v[0], NULL, 10);
    *out = r;
    return (long)body + 4;
bad:
    hist_row_free(r);
    return -1;
}

hist_row *hist_row_of(const hist_job *j)
{
    strbuf sb = STRBUF_INIT;
    hist_row_encode(j, &sb);
    hist_row *r = NULL;
    hist_row_decode(sb.data, sb.len, &r);
    sb_free(&sb);
    return r;
}

void hist_row_free(hist_row *r)
{
    if (!r) return;
    free(r->frame);
    free(r);
}
