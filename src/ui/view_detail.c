/* The detail view of one learner: pipeline steps, LMS record fields and the job log. */
#include "ui/console_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/text.h"

void ui_open_detail(const char *name)
{
    free(ui_con.detail);
    ui_con.detail = xstrdup(name);
    ui_con.view = V_DETAIL;
    ui_con.detail_sel = 0;
    ui_con.log_scroll = 0;
    for (size_t i = 0; i < ui_con.n_fields; i++) free(ui_con.fields[i].key), free(ui_con.fields[i].value);
    ui_con.n_fields = 0;
    ui_con.status_error[0] = '\0';
    ui_start_status(name);
    const char *state = ui_learner_state(name);
    int k = state ? ui_pipe_step_of_start(&ui_con.pipe, state) : -1;
    if (k < 0 && state) k = ui_pipe_step_of_start(&ui_con.pipe, ui_learner_last_state(name));
    if (k >= 0) ui_con.detail_sel = k;
    ui_con.dirty = 1;
}

/* "running elsewhere: ..." for the open learner, or "" (the process scan runs at most once a second). */
static const char *elsewhere_note(const char *name)
{
    static char note[700], for_name[256];
    static double at;
    double t = ui_now_ms();
    if (t - at < 1000 && strcmp(for_name, name) == 0) return note;
    at = t;
    snprintf(for_name, sizeof for_name, "%s", name);
    ui_elsewhere w;
    note[0] = '\0';
    if (!ui_learner_job(name, 1) && ui_learner_elsewhere(name, &w)) ui_elsewhere_describe(&w, time(NULL), note, sizeof note);
    return note;
}

/* The state the open learner is in while its job runs here: the running step's start state, else
 * the end state of the last step done (the list lags a running job). 0 when no job runs. */
static int live_state(const ui_job *j, const char **state, const char **last)
{
    if (!j || j->finished || j->dry_run || !j->n_steps) return 0;
    const char *st = NULL, *ls = NULL;
    for (size_t i = 0; i < j->n_steps; i++) {
        const ui_job_step *s = &j->steps[i];
        if (s->status == UI_STEP_RUNNING || s->status == UI_STEP_RETRYING) {
            st = s->start_state, ls = i ? j->steps[i - 1].end_state : NULL;
            break;
        }
        if (s->status == UI_STEP_DONE) st = s->end_state, ls = s->start_state;
    }
    if (!st) return 0;
    *state = st;
    *last = ls ? ls : *last;
    return 1;
}

/* Status of pipeline step i for the open learner: from its job if one ran, else from its state. */
static ui_step_status derived_status(size_t i, const char *state, const char *last, const char **note)
{
    *note = "";
    if (!state) return UI_STEP_PENDING;
    if (strcmp(state, "COMPLETE") == 0) return UI_STEP_DONE;
    int k;
    if ((k = ui_pipe_step_of_end(&ui_con.pipe, state)) >= 0) return (int)i <= k ? UI_STEP_DONE : UI_STEP_PENDING;
    if ((k = ui_pipe_step_of_start(&ui_con.pipe, state)) >= 0) {
        if ((int)i < k) return UI_STEP_DONE;
        if ((int)i == k) {
            const char *away = elsewhere_note(ui_con.detail);
            return *note = *away ? away : "in this working state, no job here or elsewhere seen: stuck? (u resumes)",
                   UI_STEP_RUNNING;
        }
        return UI_STEP_PENDING;
    }
    if (strcmp(state, "ERRORED") == 0 || strcmp(state, "ABORTED") == 0) {
        int f = ui_pipe_step_of_start(&ui_con.pipe, last);
        if (f < 0 && (f = ui_pipe_step_of_end(&ui_con.pipe, last)) >= 0) f++;
        if (f < 0) return UI_STEP_PENDING;
        if ((int)i < f) return UI_STEP_DONE;
        const char *why = strcmp(state, "ERRORED") == 0 ? ui_history_failure_note(ui_con.detail) : NULL;
        if ((int)i == f)
            return *note = strcmp(state, "ABORTED") == 0 ? "aborted here"
                           : why                        ? why
                                                        : "failed here; the reason is in the LMS record's responses "
                                                          "(resume with u)",
                   UI_STEP_FAILED;
    }
    return UI_STEP_PENDING;
}

/* Colour role and "[x]"-style icon of a step status. */
static ui_role status_role(ui_step_status s)
{
    switch (s) {
    case UI_STEP_RUNNING: return UR_RUNNING;
    case UI_STEP_RETRYING: return UR_RETRYING;
    case UI_STEP_DONE: return UR_DONE;
    case UI_STEP_SKIPPED: return UR_SKIPPED;
    case UI_STEP_FAILED: return UR_FAILED;
    default: return UR_QUEUED;
    }
}

static const char *status_icon(ui_step_status s)
{
    static const char *const icons[] = {"[ ]", "[>]", "[~]", "[x]", "[-]", "[!]"};
    return (s >= 0 && s <= UI_STEP_FAILED) ? icons[s] : "[?]";
}

/* One pipeline step's label: form 0 "icon N. START -> END  DRIVER.METHOD", 1 without "-> END",
 * 2 the start state alone. The state names are padded to the pipeline's widest, so the columns
 * after them line up on every row. */
static void step_label(char *line, size_t size, const char *icon, size_t i, int form)
{
    int ws = 0, we = 0;
    for (size_t k = 0; k < ui_con.pipe.n; k++) {
        int a = (int)strlen(ui_con.pipe.start[k]), b = (int)strlen(ui_con.pipe.end[k]);
        if (a > ws) ws = a;
        if (b > we) we = b;
    }
    if (ws > 60) ws = 60;
    if (we > 60) we = 60;
    int nd = ui_con.pipe.n >= 100 ? 3 : ui_con.pipe.n >= 10 ? 2 : 1;
    if (form == 0)
        snprintf(line, size, "%s %*zu. %-*s -> %-*s  %s.%s", icon, nd, i + 1, ws, ui_con.pipe.start[i], we, ui_con.pipe.end[i],
                 ui_con.pipe.driver[i], ui_con.pipe.method[i]);
    else if (form == 1)
        snprintf(line, size, "%s %*zu. %-*s  %s.%s", icon, nd, i + 1, ws, ui_con.pipe.start[i], ui_con.pipe.driver[i],
                 ui_con.pipe.method[i]);
    else
        snprintf(line, size, "%s %*zu. %s", icon, nd, i + 1, ui_con.pipe.start[i]);
}

void ui_draw_detail(const ui_screen_layout *L)
{
    const char *name = ui_con.detail;
    const ui_learner *l = ui_find_learner(name);
    const char *state = ui_learner_state(name);
    const char *last = ui_learner_last_state(name);
    ui_job *j = ui_learner_job(name, 0);
    int live = live_state(j, &state, &last); /* the header follows the live pipeline */
    int area_rows = L->list_rows + 1; /* header row + list rows */
    int top = L->header_row;
    ui_detail_layout D = ui_layout_detail(area_rows, COLS, (int)ui_con.pipe.n, (int)ui_con.n_fields);
    /* header */
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "Learner %s", name);
    ui_fill_row(top, UR_HEADER);
    ui_put(top, 0, COLS, UR_HEADER, sb_str(&sb), 0);
    sb_reset(&sb);
    if (D.header_rows > 1) {
        if (l) {
            int a, b;
            ui_pipe_position(&ui_con.pipe, state, last, &a, &b);
            char age[16];
            ui_format_age(time(NULL) - l->created, age, sizeof age);
            sb_addf(&sb, "state %s%s (last %s)  step %d/%d  retirement id %u  user id %u  requested %s ago", state,
                    live ? " (live)" : "", last && *last ? last : "-", a, b, l->retirement_id, l->user_id, age);
        } else {
            sb_add(&sb, "not in the current list (it may have moved; refreshing)");
        }
        ui_put(top + 1, 0, COLS, UR_NORMAL, sb_str(&sb), 1);
    }
    sb_free(&sb);
    /* pipeline */
    int use_job = j && j->n_steps > 0 && (strcmp(j->action, "retire") == 0 || strcmp(j->action, "resume") == 0 ||
                                          strcmp(j->action, "plan") == 0);
    int pw = D.fields_width ? D.fields_x - 1 : COLS;
    int py = top + D.pipe_top;
    char title[200];
    if (use_job)
        snprintf(title, sizeof title, "Pipeline: %s job %s%s", j->what,
                 j->finished ? j->outcome : "running", j->dry_run ? "  [DRY-RUN: nothing is changed]" : "");
    else
        snprintf(title, sizeof title, "Pipeline (from the learner's state)");
    ui_put(py, 0, pw, use_job && j->dry_run ? UR_DRY_RUN : UR_HEADER, title, 1);
    int steps_rows = D.pipe_rows - 1;
    if (ui_con.detail_sel >= (int)ui_con.pipe.n) ui_con.detail_sel = ui_con.pipe.n ? (int)ui_con.pipe.n - 1 : 0;
    int first = 0;
    if (steps_rows > 0 && ui_con.detail_sel >= steps_rows) first = ui_con.detail_sel - steps_rows + 1;
    double t = ui_now_ms();
    /* the step labels in the widest form that fits in three fifths of the width (start ->
     * end state, driver.method at 150 columns; driver.method; the state alone), so a label is not
     * cut while the status has room to spare */
    int cap = pw * 3 / 5;
    int form = pw >= 150 ? 0 : 1, label_w = 0;
    for (;; form++) {
        label_w = 0;
        for (size_t i = 0; i < ui_con.pipe.n; i++) {
            char line[900];
            step_label(line, sizeof line, "[ ]", i, form);
            int w = ui_text_width(line) + 2;
            if (w > label_w) label_w = w;
        }
        if (label_w <= cap || form == 2) break;
    }
    if (label_w > cap) label_w = cap;
    for (int r = 0; r < steps_rows && first + r < (int)ui_con.pipe.n; r++) {
        size_t i = (size_t)(first + r);
        const char *note = "";
        ui_step_status st;
        const ui_job_step *js = use_job && i < j->n_steps ? &j->steps[i] : NULL;
        char extra[600] = "";
        if (js) {
            st = js->status;
            if (j->dry_run) {
                snprintf(extra, sizeof extra, "plan: %s%s%s", js->plan[0] ? js->plan : "?",
                         js->message ? " - " : "", js->message ? js->message : "");
                if (js->n_requests) {
                    size_t el = strlen(extra);
                    snprintf(extra + el, sizeof extra - el, "  => %s%s", js->requests[0],
                             js->n_requests > 1 ? " ..." : "");
                }
                st = strcmp(js->plan, "fail") == 0 ? UI_STEP_FAILED
                     : strcmp(js->plan, "skip") == 0 ? UI_STEP_SKIPPED : UI_STEP_PENDING;
            } else if (st == UI_STEP_RUNNING) {
                snprintf(extra, sizeof extra, "running %.1f s%s%s", (t - js->since_ms) / 1000.0,
                         js->progress ? ": " : "", js->progress ? js->progress : "");
            } else if (st == UI_STEP_RETRYING) {
                double left = (js->retry_in_ms - (t - js->since_ms)) / 1000.0;
                char gives[32];
                double budget = ui_con.max_retry_s - (t - js->retry_first_ms) / 1000.0;
                ui_format_duration(budget > 0 ? budget : 0, gives, sizeof gives);
                snprintf(extra, sizeof extra, "retrying: attempt %d, next in %.1f s, gives up in %s: %s", js->attempt,
                         left > 0 ? left : 0, gives, js->message ? js->message : "");
            } else if (st == UI_STEP_DONE) {
                snprintf(extra, sizeof extra, "done in %.1f s%s%s", js->elapsed_ms / 1000.0,
                         js->message && *js->message ? ": " : "", js->message ? js->message : "");
            } else if (st == UI_STEP_FAILED) {
                snprintf(extra, sizeof extra, "FAILED: %s", js->message ? js->message : "(no message)");
            } else if (st == UI_STEP_SKIPPED) {
                snprintf(extra, sizeof extra, "skipped (completed in a previous run)");
            } else {
                snprintf(extra, sizeof extra, "pending");
            }
        } else {
            st = derived_status(i, state, last, &note);
            snprintf(extra, sizeof extra, "%s%s%s", ui_step_status_name(st), *note ? ": " : "", note);
            if (st == UI_STEP_RUNNING) st = UI_STEP_RUNNING;
        }
        ui_text_flatten(extra); /* "with response:\n<Response [204]>" reads on one row */
        char line[900];
        step_label(line, sizeof line, status_icon(st), i, form);
        int y = py + 1 + r;
        int is_sel = (int)i == ui_con.detail_sel;
        int lw = label_w;
        ui_put(y, 0, lw - 1, is_sel ? UR_SELECTION : status_role(st), line, 1);
        ui_put(y, lw - 1, 1, is_sel ? UR_SELECTION : UR_NORMAL, " ", 1);
        ui_put(y, lw, pw - lw, is_sel ? UR_SELECTION : status_role(st), extra, 1);
    }
    /* record fields */
    if (D.fields_rows > 0) {
        int fx = D.fields_width ? D.fields_x : 0, fw = D.fields_width ? D.fields_width : COLS;
        int fy = top + D.fields_top;
        ui_put(fy, fx, fw, UR_HEADER, ui_con.status_pid > 0 ? "Record (loading...)" : "Record", 1);
        if (ui_con.status_error[0]) ui_put(fy + 1, fx, fw, UR_FAILED, ui_con.status_error, 1);
        int k = 0;
        for (int r = ui_con.status_error[0] ? 2 : 1; r < D.fields_rows && k < (int)ui_con.n_fields; r++, k++) {
            char line[1200];
            snprintf(line, sizeof line, "%s: %s", ui_con.fields[k].key, ui_con.fields[k].value);
            ui_put(fy + r, fx, fw, UR_NORMAL, line, 1);
        }
    }
    /* job log */
    if (D.log_rows > 0) {
        int ly = top + D.log_top;
        int lw = D.fields_width ? D.fields_x - 1 : COLS;
        char lt[200];
        if (j) snprintf(lt, sizeof lt, "Job log: %s (%s)%s", j->what, j->finished ? j->outcome : "running",
                        ui_con.log_scroll ? "  [scrolled: End returns, L full screen]" : "  (L full screen)");
        else snprintf(lt, sizeof lt, "Job log: no job for this learner in this session");
        ui_put(ly, 0, lw, UR_HEADER, lt, 1);
        ui_con.detail_log_page = D.log_rows - 1;
        if (j) ui_draw_log_panel(ly + 1, D.log_rows - 1, lw, j, &ui_con.log_scroll);
    }
}
