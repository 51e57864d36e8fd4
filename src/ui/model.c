/* The compact learner list (see model.h). */
#include "ui/model.h"
#include "common/isotime.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void ui_store_init(ui_store *s)
{
    memset(s, 0, sizeof *s);
}

void ui_store_free(ui_store *s)
{
    free(s->v);
    free(s->arena);
    for (size_t i = 0; i < s->n_states; i++) free(s->states[i]);
    free(s->states);
    free(s->hash);
    for (int t = 0; t < UI_TAB_COUNT; t++) free(s->all[t]), free(s->rows[t]);
    ui_hist_notes_free(&s->notes);
    memset(s, 0, sizeof *s);
}

static uint16_t intern(ui_store *s, const char *state)
{
    if (!state) state = "";
    for (size_t i = 0; i < s->n_states; i++)
        if (strcmp(s->states[i], state) == 0) return (uint16_t)i;
    if (s->n_states >= 65535) return 0;
    if (s->n_states == s->cap_states) {
        s->cap_states = s->cap_states ? s->cap_states * 2 : 32;
        s->states = xrealloc(s->states, s->cap_states * sizeof *s->states);
    }
    s->states[s->n_states] = xstrdup(state);
    return (uint16_t)s->n_states++;
}

static uint32_t hash_str(const char *k)
{
    uint32_t h = 2166136261u;
    for (; *k; k++) h = (h ^ (unsigned char)*k) * 16777619u;
    return h;
}

static void hash_insert(ui_store *s, size_t idx)
{
    size_t mask = s->hash_cap - 1;
    size_t h = hash_str(s->arena + s->v[idx].name) & mask;
    while (s->hash[h]) h = (h + 1) & mask;
    s->hash[h] = (uint32_t)idx + 1;
}

static void hash_grow(ui_store *s)
{
    free(s->hash);
    s->hash_cap = s->hash_cap ? s->hash_cap * 2 : 1024;
    s->hash = xcalloc(s->hash_cap, sizeof *s->hash);
    for (size_t i = 0; i < s->n; i++) hash_insert(s, i);
}

ui_learner *ui_store_find(const ui_store *s, const char *name)
{
    if (!s->hash_cap || !name) return NULL;
    size_t mask = s->hash_cap - 1;
    for (size_t h = hash_str(name) & mask; s->hash[h]; h = (h + 1) & mask) {
        ui_learner *l = &s->v[s->hash[h] - 1];
        if (strcmp(s->arena + l->name, name) == 0) return l;
    }
    return NULL;
}

size_t ui_store_add(ui_store *s, const char *name, const char *state, const char *last_state,
                    uint32_t retirement_id, uint32_t user_id, int64_t created, int64_t modified)
{
    if (!name) name = "";
    ui_learner *dup = ui_store_find(s, name);
    if (dup) { /* the same learner listed twice (e.g. it moved between two fetches): keep the newer */
        if (modified >= dup->modified) {
            dup->state = intern(s, state);
            dup->last_state = intern(s, last_state);
            dup->modified = modified;
        }
        return (size_t)(dup - s->v);
    }
    size_t nl = strlen(name) + 1;
    if (s->arena_len + nl > s->arena_cap) {
        while (s->arena_len + nl > s->arena_cap) s->arena_cap = s->arena_cap ? s->arena_cap * 2 : 4096;
        s->arena = xrealloc(s->arena, s->arena_cap);
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    ui_learner *l = &s->v[s->n];
    memset(l, 0, sizeof *l);
    l->name = (uint32_t)s->arena_len;
    memcpy(s->arena + s->arena_len, name, nl);
    s->arena_len += nl;
    l->state = intern(s, state);
    l->last_state = intern(s, last_state);
    l->retirement_id = retirement_id;
    l->user_id = user_id;
    l->created = created;
    l->modified = modified;
    s->n++;
    if ((s->n + 1) * 2 > s->hash_cap) hash_grow(s);
    else hash_insert(s, s->n - 1);
    return s->n - 1;
}

const char *ui_store_name(const ui_store *s, const ui_learner *l)
{
    return s->arena + l->name;
}

const char *ui_store_state(const ui_store *s, uint16_t idx)
{
    return idx < s->n_states ? s->states[idx] : "";
}

void ui_proto_unescape(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *o++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

char *ui_proto_escape(const char *s)
{
    if (!s) s = "";
    size_t n = 0;
    for (const char *p = s; *p; p++) n += (*p == '\\' || *p == '\t' || *p == '\n' || *p == '\r') ? 2 : 1;
    char *out = xrealloc(NULL, n + 1), *o = out;
    for (const char *p = s; *p; p++) {
        if (*p == '\\') *o++ = '\\', *o++ = '\\';
        else if (*p == '\t') *o++ = '\\', *o++ = 't';
        else if (*p == '\n') *o++ = '\\', *o++ = 'n';
        else if (*p == '\r') *o++ = '\\', *o++ = 'r';
        else *o++ = *p;
    }
    *o = '\0';
    return out;
}

int ui_proto_split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        f[n++] = p;
        char *t = strchr(p, '\t');
        if (!t) break;
        *t = '\0';
        p = t + 1;
    }
    for (int i = 0; i < n; i++) ui_proto_unescape(f[i]);
    return n;
}

int ui_store_feed_line(ui_store *s, char *line)
{
    char *f[9];
    if (line[0] == 'L' && line[1] == '\t') {
        /* L id user_id created modified state last_state username */
        int n = ui_proto_split(line + 2, f, 7);
        if (n != 7) return -1;
        ui_store_add(s, f[6], f[4], f[5], (uint32_t)strtoul(f[0], NULL, 10), (uint32_t)strtoul(f[1], NULL, 10),
                     strtoll(f[2], NULL, 10), strtoll(f[3], NULL, 10));
        return 0;
    }
    if (line[0] == 'E' && line[1] == '\t') {
        ui_proto_unescape(line + 2);
        snprintf(s->error, sizeof s->error, "%s", line + 2);
        return 0;
    }
    if (line[0] == 'H' && line[1] == '\t') return ui_hist_notes_feed(&s->notes, line);
    if (line[0] == 'D') {
        s->complete = 1;
        ui_hist_notes_done(&s->notes);
        return 0;
    }
    if (line[0] == 'T' && line[1] == '\t') return 0; /* a token for the console (fetch.h), not a learner */
    return -1;
}

int ui_pipe_step_of_start(const ui_pipeline *p, const char *state)
{
    for (size_t i = 0; state && i < p->n; i++)
        if (strcmp(p->start[i], state) == 0) return (int)i;
    return -1;
}

int ui_pipe_step_of_end(const ui_pipeline *p, const char *state)
{
    for (size_t i = 0; state && i < p->n; i++)
        if (strcmp(p->end[i], state) == 0) return (int)i;
    return -1;
}

const char *ui_pipe_position(const ui_pipeline *p, const char *state, const char *last_state, int *n, int *m)
{
    *m = (int)p->n;
    *n = 0;
    if (!state) return "unknown";
    if (strcmp(state, "PENDING") == 0) return "pending";
    if (strcmp(state, "COMPLETE") == 0) return *n = (int)p->n, "complete";
    int i = ui_pipe_step_of_end(p, state);
    if (i >= 0) return *n = i + 1, "done";
    i = ui_pipe_step_of_start(p, state);
    if (i >= 0) return *n = i + 1, "working";
    if (strcmp(state, "ERRORED") == 0 || strcmp(state, "ABORTED") == 0) {
        /* the learner failed in (or was aborted after) last_state */
        int k = ui_pipe_step_of_start(p, last_state);
        if (k >= 0) *n = k + 1;
        else if ((k = ui_pipe_step_of_end(p, last_state)) >= 0) *n = k + 1;
        return "failed";
    }
    return "unknown";
}

static ui_tab classify(const ui_store *s, const ui_learner *l, const ui_pipeline *p, long cool_off_days, time_t now)
{
    const char *st = ui_store_state(s, l->state);
    if (strcmp(st, "ERRORED") == 0) return UI_TAB_FAILED;
    if (strcmp(st, "COMPLETE") == 0 || strcmp(st, "ABORTED") == 0) return UI_TAB_COMPLETE;
    size_t len = strlen(st);
    int queued = strcmp(st, "PENDING") == 0 || ui_pipe_step_of_end(p, st) >= 0 ||
                 (len > 9 && strcmp(st + len - 9, "_COMPLETE") == 0);
    if (!queued) return UI_TAB_STUCK;
    /* the LMS queue: created < now - cool_off_days days */
    if (l->created < (int64_t)now - (int64_t)cool_off_days * 86400) return UI_TAB_READY;
    return UI_TAB_PENDING;
}

static int by_id(const void *a, const void *b, void *ctx)
{
    const ui_store *s = ctx;
    const ui_learner *x = &s->v[*(const uint32_t *)a], *y = &s->v[*(const uint32_t *)b];
    return (x->retirement_id > y->retirement_id) - (x->retirement_id < y->retirement_id);
}

static int by_modified_desc(const void *a, const void *b, void *ctx)
{
    const ui_store *s = ctx;
    const ui_learner *x = &s->v[*(const uint32_t *)a], *y = &s->v[*(const uint32_t *)b];
    if (x->modified != y->modified) return (x->modified < y->modified) - (x->modified > y->modified);
    return by_id(a, b, ctx);
}

void ui_store_classify(ui_store *s, const ui_pipeline *p, long cool_off_days, long history_days, time_t now)
{
    for (int t = 0; t < UI_TAB_COUNT; t++) s->total[t] = 0;
    for (size_t i = 0; i < s->n; i++) {
        ui_tab t = classify(s, &s->v[i], p, cool_off_days, now);
        if (t == UI_TAB_COMPLETE && history_days > 0 && s->v[i].modified < (int64_t)now - (int64_t)history_days * 86400)
            t = UI_TAB_COUNT;
        s->v[i].tab = (uint8_t)t;
        if (t < UI_TAB_COUNT) s->total[t]++;
    }
    size_t fill[UI_TAB_COUNT] = {0};
    for (int t = 0; t < UI_TAB_COUNT; t++) {
        free(s->all[t]);
        free(s->rows[t]);
        s->all[t] = xrealloc(NULL, (s->total[t] + 1) * sizeof(uint32_t));
        s->rows[t] = xrealloc(NULL, (s->total[t] + 1) * sizeof(uint32_t));
        s->n_rows[t] = 0;
    }
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].tab < UI_TAB_COUNT) s->all[s->v[i].tab][fill[s->v[i].tab]++] = (uint32_t)i;
    for (int t = 0; t < UI_TAB_COUNT; t++)
        qsort_r(s->all[t], s->total[t], sizeof(uint32_t), t == UI_TAB_COMPLETE ? by_modified_desc : by_id, s);
    ui_store_filter(s, NULL);
}

typedef struct sort_ctx {
    const ui_store *s;
    ui_sort key;
    int desc;
} sort_ctx;

/* Compares two learner indices by the context's key (ties: retirement id). */
static int by_key(const void *a, const void *b, void *ctx)
{
    const sort_ctx *c = ctx;
    const ui_learner *x = &c->s->v[*(const uint32_t *)a], *y = &c->s->v[*(const uint32_t *)b];
    int r = 0;
    switch (c->key) {
    case UI_SORT_NAME: r = strcasecmp(c->s->arena + x->name, c->s->arena + y->name); break;
    case UI_SORT_STATE: r = strcmp(ui_store_state(c->s, x->state), ui_store_state(c->s, y->state)); break;
    case UI_SORT_AGE: r = (x->created > y->created) - (x->created < y->created); break; /* oldest request first */
    case UI_SORT_CHANGED: r = (x->modified < y->modified) - (x->modified > y->modified); break; /* newest first */
    default: break;
    }
    if (!r) r = (x->retirement_id > y->retirement_id) - (x->retirement_id < y->retirement_id);
    return c->desc ? -r : r;
}

void ui_store_sort(ui_store *s, ui_sort key, int desc, const char *filter)
{
    sort_ctx c = {s, key, desc};
    for (int t = 0; t < UI_TAB_COUNT; t++) {
        if (!s->all[t]) continue;
        if (key == UI_SORT_DEFAULT && !desc)
            qsort_r(s->all[t], s->total[t], sizeof(uint32_t), t == UI_TAB_COMPLETE ? by_modified_desc : by_id, s);
        else if (key == UI_SORT_DEFAULT)
            c.key = t == UI_TAB_COMPLETE ? UI_SORT_CHANGED : UI_SORT_DEFAULT,
            qsort_r(s->all[t], s->total[t], sizeof(uint32_t), by_key, &c), c.key = key;
        else
            qsort_r(s->all[t], s->total[t], sizeof(uint32_t), by_key, &c);
    }
    ui_store_filter(s, filter);
}

const char *ui_sort_column(ui_sort key)
{
    static const char *const cols[UI_SORT_COUNT] = {NULL, "USERNAME", "STATE", "AGE", "CHANGED"};
    return key > 0 && key < UI_SORT_COUNT ? cols[key] : NULL;
}

void ui_store_filter(ui_store *s, const char *filter)
{
    int any = filter && *filter;
    for (int t = 0; t < UI_TAB_COUNT; t++) {
        if (!s->all[t]) continue;
        size_t k = 0;
        for (size_t i = 0; i < s->total[t]; i++) {
            uint32_t idx = s->all[t][i];
            if (!any || strcasestr(s->arena + s->v[idx].name, filter)) s->rows[t][k++] = idx;
        }
        s->n_rows[t] = k;
    }
}

void ui_store_copy_marks(ui_store *s, const ui_store *old)
{
    for (size_t i = 0; i < old->n; i++) {
        if (!old->v[i].marked) continue;
        ui_learner *l = ui_store_find(s, old->arena + old->v[i].name);
        if (l) l->marked = 1;
    }
}

size_t ui_store_marked(const ui_store *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) n += s->v[i].marked;
    return n;
}

const char *ui_tab_title(ui_tab t)
{
    static const char *const titles[UI_TAB_COUNT] = {"Ready", "Pending", "Failed", "Stuck", "Complete"};
    return (t >= 0 && t < UI_TAB_COUNT) ? titles[t] : "?";
}

int64_t ui_parse_time(const char *s)
{
    int64_t us;
    return iso_parse_us(s, &us) == 0 ? us / 1000000 : 0;
}

void ui_format_age(int64_t seconds, char *out, size_t out_size)
{
    if (seconds < 0) seconds = 0;
    if (seconds < 60) snprintf(out, out_size, "%llds", (long long)seconds);
    else if (seconds < 3600) snprintf(out, out_size, "%lldm", (long long)(seconds / 60));
    else if (seconds < 86400) snprintf(out, out_size, "%lldh", (long long)(seconds / 3600));
    else if (seconds < 86400LL * 365) snprintf(out, out_size, "%lldd", (long long)(seconds / 86400));
    else snprintf(out, out_size, "%lldy", (long long)(seconds / (86400LL * 365)));
}

void ui_format_duration(double seconds, char *out, size_t out_size)
{
    long s = seconds > 0 ? (long)(seconds + 0.5) : 0;
    if (s < 60) snprintf(out, out_size, "%lds", s);
    else if (s < 3600) snprintf(out, out_size, "%ldm%02lds", s / 60, s % 60);
    else snprintf(out, out_size, "%ldh%02ldm", s / 3600, s % 3600 / 60);
}
