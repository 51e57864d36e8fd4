/* ui history notes (prefix ui_hist_): what the retirement history (engine/history.h,
 * docs/history.md) adds to the console. No curses here.
 *
 * The fetch children read the store (the console itself never opens it) and write lines of the
 * fetch protocol (fetch.h):
 *   H user_id kind since text   one note per learner: kind F = its current failure ("403 forum:
 *                               permission denied"), R = a job running now ("HOST, pid N"),
 *                               S = a job left open whose process is gone ("HOST, pid N");
 *                               since = epoch seconds the job started
 *   F history.* value           the detail's record fields: the last failure in full and the
 *                               learner's earlier jobs
 * The learner list (model.h) keeps the notes in a ui_hist_notes; the list view shows them in a
 * REASON / JOB column on the Failed and Stuck tabs. */
#ifndef RETIRECTL_UI_HISTORY_NOTES_H
#define RETIRECTL_UI_HISTORY_NOTES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "engine/config.h"

/* How the fetch child writes one protocol line (fetch.c's writer). */
typedef void (*ui_hist_put_fn)(FILE *out, char tag, const char *const *f, size_t n);

/* Fetch child: H lines for every learner with a current failure or an open job. A store that
 * cannot be read writes nothing here (the detail's fields say why). */
void ui_hist_emit_notes(const cfg *c, FILE *out, ui_hist_put_fn put);
/* Status child: F lines history.* for this learner (learner: its retirement status record). */
void ui_hist_emit_fields(const cfg *c, const cJSON *learner, FILE *out, ui_hist_put_fn put);

typedef struct ui_hist_note {
    uint32_t user_id;
    char kind;      /* 'F', 'R', 'S' */
    int64_t since;  /* epoch seconds */
    char *text;
} ui_hist_note;

/* The notes of one learner list, sorted by user id once complete. */
typedef struct ui_hist_notes {
    ui_hist_note *v;
    size_t n, cap;
} ui_hist_notes;

/* Takes one "H\t..." line (escaped fields, modified in place): 0, or -1 when malformed. */
int ui_hist_notes_feed(ui_hist_notes *ns, char *line);
/* Sorts for lookups (after the last line). */
void ui_hist_notes_done(ui_hist_notes *ns);
void ui_hist_notes_free(ui_hist_notes *ns);
/* The first note of user_id whose kind is in kinds (e.g. "F", "RS"), or NULL. */
const ui_hist_note *ui_hist_note_of(const ui_hist_notes *ns, uint32_t user_id, const char *kinds);
/* What the list shows for a note, into buf: the reason, "running on HOST, pid N, for 2m", or
 * "stuck: the job of HOST, pid N is gone (2m)". Returns buf. */
char *ui_hist_note_text(const ui_hist_note *n, time_t now, char *buf, size_t len);

#endif
