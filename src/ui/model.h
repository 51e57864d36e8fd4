/* ui model (prefix ui_store_, ui_pipe_): the console's learner list, kept compact so that
 * 100,000 learners fit in a few MB: a flat array of small structs, usernames in one arena,
 * state names interned. Filled from the line protocol the fetch child writes (fetch.h);
 * classified into tabs; filtered by username. No curses here. */
#ifndef RETIRECTL_UI_MODEL_H
#define RETIRECTL_UI_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ui/history_notes.h"

typedef enum ui_tab { UI_TAB_READY = 0, UI_TAB_PENDING, UI_TAB_FAILED, UI_TAB_STUCK, UI_TAB_COMPLETE, UI_TAB_COUNT } ui_tab;

/* The configured pipeline as the model needs it (strings borrowed from the config). */
typedef struct ui_pipeline {
    const char **start;   /* start (working) state of each step */
    const char **end;     /* end state of each step */
    const char **driver;
    const char **method;
    size_t n;
} ui_pipeline;

typedef struct ui_learner {
    uint32_t name;          /* offset of the raw username in the store's arena */
    uint32_t retirement_id;
    uint32_t user_id;
    uint16_t state;         /* interned state name index */
    uint16_t last_state;
    uint8_t tab;            /* ui_tab, or UI_TAB_COUNT: shown in no tab */
    uint8_t marked;
    int64_t created;        /* epoch seconds (0 unknown) */
    int64_t modified;
} ui_learner;

typedef struct ui_store {
    ui_learner *v;
    size_t n, cap;
    char *arena;            /* NUL-terminated raw usernames */
    size_t arena_len, arena_cap;
    char **states;          /* interned state names (owned) */
    size_t n_states, cap_states;
    uint32_t *hash;         /* open addressing over v by username (index+1, 0 = empty) */
    size_t hash_cap;
    uint32_t *all[UI_TAB_COUNT];  /* per tab: indices into v, sorted */
    uint32_t *rows[UI_TAB_COUNT]; /* per tab: the same, filtered */
    size_t n_rows[UI_TAB_COUNT];
    size_t total[UI_TAB_COUNT];   /* per tab before filtering (length of all[]) */
    char error[512];        /* last "E" line from the fetch child, or "" */
    int complete;           /* the "D" line arrived */
    ui_hist_notes notes;    /* "H" lines: the history's reason / running job per user id */
} ui_store;

void ui_store_init(ui_store *s);
void ui_store_free(ui_store *s);
/* Adds one learner (copies name and states). Returns its index. */
size_t ui_store_add(ui_store *s, const char *name, const char *state, const char *last_state,
                    uint32_t retirement_id, uint32_t user_id, int64_t created, int64_t modified);
/* Feeds one protocol line (without its newline): "L\t...", "E\t...", "D\t...". Returns 0, or -1
 * for a malformed line (ignored). */
int ui_store_feed_line(ui_store *s, char *line);
const char *ui_store_name(const ui_store *s, const ui_learner *l);
const char *ui_store_state(const ui_store *s, uint16_t idx);
/* The learner called name, or NULL. */
ui_learner *ui_store_find(const ui_store *s, const char *name);
/* Classifies every learner into a tab (cool-off in days, now), sorts each tab and clears the
 * filter. history_days > 0 keeps only COMPLETE/ABORTED learners changed in that many days
 * (the others are in no tab). */
void ui_store_classify(ui_store *s, const ui_pipeline *p, long cool_off_days, long history_days, time_t now);
void ui_store_filter(ui_store *s, const char *filter);
/* Sort orders of the list (the o key cycles them): by retirement id (newest change first in the
 * Complete tab), username, state, request age, last change. */
typedef enum ui_sort { UI_SORT_DEFAULT = 0, UI_SORT_NAME, UI_SORT_STATE, UI_SORT_AGE, UI_SORT_CHANGED, UI_SORT_COUNT } ui_sort;
/* Sorts every tab by key (descending when desc), then applies filter again. */
void ui_store_sort(ui_store *s, ui_sort key, int desc, const char *filter);
/* The column title a sort key sorts ("USERNAME", ...), or NULL for the default order. */
const char *ui_sort_column(ui_sort key);
/* Copies marks from old to s by username. */
void ui_store_copy_marks(ui_store *s, const ui_store *old);
size_t ui_store_marked(const ui_store *s);
/* Tab title ("Ready", ...). */
const char *ui_tab_title(ui_tab t);

/* Where a state is in the pipeline: *n steps done or in progress of *m (see model.c). Returns a
 * short kind: "pending", "working", "done", "failed", "complete", "unknown". */
const char *ui_pipe_position(const ui_pipeline *p, const char *state, const char *last_state, int *n, int *m);
/* Step index whose start state is state, or -1. */
int ui_pipe_step_of_start(const ui_pipeline *p, const char *state);
/* Step index whose end state is state, or -1. */
int ui_pipe_step_of_end(const ui_pipeline *p, const char *state);

/* Protocol field escaping: "\\", "\t", "\n" as backslash escapes. Escapes s into out (malloc'd). */
char *ui_proto_escape(const char *s);
/* Unescapes in place. */
void ui_proto_unescape(char *s);
/* Splits line at tabs, in place, into at most max fields (each unescaped); returns the count. */
int ui_proto_split(char *line, char **f, int max);
/* Parses an ISO-8601 UTC time ("2018-10-18T20:35:52.349757Z", "+00:00" accepted) to epoch
 * seconds; 0 when unparsable. */
int64_t ui_parse_time(const char *s);
/* "9m12s", "45s", "1h05m" for a countdown of seconds (negative shown as 0s). */
void ui_format_duration(double seconds, char *out, size_t out_size);
/* "5s", "12m", "3h", "4d", "2y" for a duration in seconds (negative shown as 0s). */
void ui_format_age(int64_t seconds, char *out, size_t out_size);

#endif
