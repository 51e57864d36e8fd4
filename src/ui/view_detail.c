/* The detail view of one learner: pipeline steps (a panel, panel.h), LMS record fields and the
 * job log panel. Its entry of the view table is ui_detail_view. */
#include "ui/console_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/text.h"

void ui_open_detail(const char *name)
{
    char *copy = xstrdup(name); /* name may be the record shown now */
    free(ui_con.detail);
    ui_con.detail = copy;
    ui_view_enter(V_DETAIL);
}

/* The open hook: the record's fetch starts, the step to act on is selected. */
static void open_detail(view_t from)
{
    (void)from;
    const char *name = ui_con.detail;
    ui_panel_reset(&ui_con.steps);
    ui_con.log_scroll = 0;
    for (size_t i = 0; i < ui_con.n_fields; i++) free(ui_con.fields[i].key), free(ui_con.fields[i].value);
    ui_con.n_fields = 0;
    ui_con.status_error[0] = '\0';
    ui_start_status(name);
    const char *state = ui_learner_state(name);
    int k = state ? ui_pipe_step_of_start(&ui_con.pipe, state) : -1;
    if (k < 0 && state) k = ui_pipe_step_of_start(&ui_con.pipe, ui_learner_last_state(name));
    if (k >= 0) ui_con.steps.sel = (size_t)k;
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

/* The text after step i's label in the job's pipeline: how the step went or goes; and its status. */
static ui_step_status job_step_text(const ui_job *j, size_t i, double t, char *extra, size_t size)
{
    const ui_job_step *js = &j->steps[i];
    ui_step_status st = js->status;
    if (j->dry_run) {
        snprintf(extra, size, "plan: %s%s%s", js->plan[0] ? js->plan : "?", js->message ? " - " : "",
                 js->message ? js->message : "");
        if (js->n_requests) {
            size_t el = strlen(extra);
            snprintf(extra + el, size - el, "  => %s%s", js->requests[0], js->n_requests > 1 ? " ..." : "");
        }
        return strcmp(js->plan, "fail") == 0 ? UI_STEP_FAILED : strcmp(js->plan, "skip") == 0 ? UI_STEP_SKIPPED : UI_STEP_PENDING;
    }
    if (st == UI_STEP_RUNNING) {
        snprintf(extra, size, "running %.1f s%s%s", (t - js->since_ms) / 1000.0, js->progress ? ": " : "",
                 js->progress ? js->progress : "");
    } else if (st == UI_STEP_RETRYING) {
        double left = (js->retry_in_ms - (t - js->since_ms)) / 1000.0;
        char gives[32];
        double budget = ui_con.max_retry_s - (t - js->retry_first_ms) / 1000.0;
        ui_format_duration(budget > 0 ? budget : 0, gives, sizeof gives);
        snprintf(extra, size, "retrying: attempt %d, next in %.1f s, gives up in %s: %s", js->attempt, left > 0 ? left : 0,
                 gives, js->message ? js->message : "");
    } else if (st == UI_STEP_DONE) {
        snprintf(extra, size, "done in %.1f s%s%s", js->elapsed_ms / 1000.0, js->message && *js->message ? ": " : "",
                 js->message ? js->message : "");
    } else if (st == UI_STEP_FAILED) {
        snprintf(extra, size, "FAILED: %s", js->message ? js->message : "(no message)");
    } else if (st == UI_STEP_SKIPPED) {
        snprintf(extra, size, "skipped (completed in a previous run)");
    } else {
        snprintf(extra, size, "pending");
    }
    return st;
}

/* What the step rows of one drawing share. */
typedef struct steps_ctx {
    const ui_job *job;       /* the job whose pipeline is shown, or NULL: from the state */
    const char *state, *last;
    int form, label_w, width;
    double now_ms;
} steps_ctx;

/* Paints pipeline step r at y (a panel row callback; ctx: steps_ctx). */
static int step_row(void *vctx, size_t i, int y, int left, int is_sel)
{
    const steps_ctx *c = vctx;
    (void)left;
    char extra[600] = "";
    ui_step_status st;
    if (c->job && i < c->job->n_steps) {
        st = job_step_text(c->job, i, c->now_ms, extra, sizeof extra);
    } else {
        const char *note = "";
        st = derived_status(i, c->state, c->last, &note);
        snprintf(extra, sizeof extra, "%s%s%s", ui_step_status_name(st), *note ? ": " : "", note);
    }
    ui_text_flatten(extra); /* "with response:\n<Response [204]>" reads on one row */
    char line[900];
    step_label(line, sizeof line, status_icon(st), i, c->form);
    int lw = c->label_w;
    ui_put(y, 0, lw - 1, is_sel ? UR_SELECTION : status_role(st), line, 1);
    ui_put(y, lw - 1, 1, is_sel ? UR_SELECTION : UR_NORMAL, " ", 1);
    ui_put(y, lw, c->width - lw, is_sel ? UR_SELECTION : status_role(st), extra, 1);
    return 1;
}

/* The step labels' form: the widest that fits in three fifths of width (start -> end state,
 * driver.method at 150 columns; driver.method; the state alone), so a label is not cut while
 * the status has room to spare. Sets *label_w to the labels' column width. */
static int step_label_form(int width, int *label_w)
{
    int cap = width * 3 / 5;
    int form = width >= 150 ? 0 : 1;
    for (;; form++) {
        *label_w = 0;
        for (size_t i = 0; i < ui_con.pipe.n; i++) {
            char line[900];
            step_label(line, sizeof line, "[ ]", i, form);
            int w = ui_text_width(line) + 2;
            if (w > *label_w) *label_w = w;
        }
        if (*label_w <= cap || form == 2) break;
    }
    if (*label_w > cap) *label_w = cap;
    return form;
}

/* The learner's heading rows: its name, then its state, step and ids. */
static void draw_heading(int top, int rows, const char *name, const char *state, const char *last, int live)
{
    const ui_learner *l = ui_find_learner(name);
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "Learner %s", name);
    ui_fill_row(top, UR_HEADER);
    ui_put(top, 0, COLS, UR_HEADER, sb_str(&sb), 0);
    sb_reset(&sb);
    if (rows > 1) {
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
}

/* The pipeline: its title, then one row per step (the steps panel) at y, rows high, width wide. */
static void draw_pipeline(int y, int rows, int width, const ui_job *j, const char *state, const char *last)
{
    int use_job = j && j->n_steps > 0 && (strcmp(j->action, "retire") == 0 || strcmp(j->action, "resume") == 0 ||
                                          strcmp(j->action, "plan") == 0);
    char title[200];
    if (use_job)
        snprintf(title, sizeof title, "Pipeline: %s job %s%s", j->what, j->finished ? j->outcome : "running",
                 j->dry_run ? "  [DRY-RUN: nothing is changed]" : "");
    else
        snprintf(title, sizeof title, "Pipeline (from the learner's state)");
    ui_put(y, 0, width, use_job && j->dry_run ? UR_DRY_RUN : UR_HEADER, title, 1);
    steps_ctx c = {use_job ? j : NULL, state, last, 0, 0, width, ui_now_ms()};
    c.form = step_label_form(width, &c.label_w);
    ui_con.steps.top = 0; /* the selection stays on the last row shown when below the first screenful */
    ui_panel_draw(&ui_con.steps, ui_con.pipe.n, y + 1, rows - 1, step_row, &c);
}

/* The LMS record's fields at x, y, rows high, width wide. */
static void draw_fields(int y, int x, int rows, int width)
{
    ui_put(y, x, width, UR_HEADER, ui_con.status_pid > 0 ? "Record (loading...)" : "Record", 1);
    if (ui_con.status_error[0]) ui_put(y + 1, x, width, UR_FAILED, ui_con.status_error, 1);
    int k = 0;
    for (int r = ui_con.status_error[0] ? 2 : 1; r < rows && k < (int)ui_con.n_fields; r++, k++) {
        char line[1200];
        snprintf(line, sizeof line, "%s: %s", ui_con.fields[k].key, ui_con.fields[k].value);
        ui_put(y + r, x, width, UR_NORMAL, line, 1);
    }
}

/* The job log panel at y, rows high (title included), width wide. */
static void draw_job_log(int y, int rows, int width, const ui_job *j)
{
    char lt[200];
    if (j) snprintf(lt, sizeof lt, "Job log: %s (%s)%s", j->what, j->finished ? j->outcome : "running",
                    ui_con.log_scroll ? "  [scrolled: End returns, L full screen]" : "  (L full screen)");
    else snprintf(lt, sizeof lt, "Job log: no job for this learner in this session");
    ui_put(y, 0, width, UR_HEADER, lt, 1);
    ui_con.detail_log_page = rows - 1;
    if (j) ui_draw_log_panel(y + 1, rows - 1, width, j, &ui_con.log_scroll);
}

/* The detail view: heading, pipeline, record fields and job log, as ui_layout_detail places them. */
static void draw_detail(const ui_screen_layout *L)
{
    const char *name = ui_con.detail;
    const char *state = ui_learner_state(name);
    const char *last = ui_learner_last_state(name);
    ui_job *j = ui_learner_job(name, 0);
    int live = live_state(j, &state, &last); /* the header follows the live pipeline */
    int top = L->header_row;
    ui_detail_layout D = ui_layout_detail(L->list_rows + 1 /* header row + list rows */, COLS, (int)ui_con.pipe.n,
                                          (int)ui_con.n_fields);
    draw_heading(top, D.header_rows, name, state, last, live);
    int pw = D.fields_width ? D.fields_x - 1 : COLS;
    draw_pipeline(top + D.pipe_top, D.pipe_rows, pw, j, state, last);
    if (D.fields_rows > 0)
        draw_fields(top + D.fields_top, D.fields_width ? D.fields_x : 0, D.fields_rows,
                    D.fields_width ? D.fields_width : COLS);
    if (D.log_rows > 0) draw_job_log(top + D.log_top, D.log_rows, D.fields_width ? D.fields_x - 1 : COLS, j);
}

/* The detail view's own keys: x reruns the selected step; the paging keys scroll the job log. */
static int detail_key(ui_action a, long page)
{
    (void)page;
    int log_page = ui_con.detail_log_page > 2 ? ui_con.detail_log_page - 1 : 1;
    switch (a) {
    case UA_PAGE_UP: ui_con.log_scroll += log_page; return 1;
    case UA_PAGE_DOWN: ui_con.log_scroll = ui_con.log_scroll > log_page ? ui_con.log_scroll - log_page : 0; return 1;
    case UA_HOME: ui_con.log_scroll = 1 << 30; return 1; /* the log panel's first row (the draw clamps) */
    case UA_END: ui_con.log_scroll = 0; return 1;
    case UA_PLAN: ui_plan_selected(0); return 1; /* shown here already */
    case UA_RERUN:
        if (ui_con.steps.sel < ui_con.pipe.n)
            ui_ask_rerun(ui_con.detail, ui_con.pipe.driver[ui_con.steps.sel], ui_con.pipe.method[ui_con.steps.sel]);
        return 1;
    default: return 0;
    }
}

/* The pipeline steps: Up and Down select the step x reruns. */
static ui_panel *detail_panel(size_t *n)
{
    *n = ui_con.pipe.n;
    return &ui_con.steps;
}

/* Esc: back to the list. */
static void close_detail(void)
{
    ui_con.view = V_LIST;
}

/* The open learner, else the list's selection. */
static const char *detail_selected(void)
{
    return ui_con.detail ? ui_con.detail : ui_list_selected_name();
}

/* F5, and the list's clock while watched: fetch the record again. */
static void refresh_detail(void)
{
    if (ui_con.detail) ui_start_status(ui_con.detail);
}

const ui_view_ops ui_detail_view = {
    .title = "learner",
    .key_bit = UI_VIEW_DETAIL,
    .hint = "? help  Esc back  r retire  u resume  x rerun step  p dry-run  L log  c cancel  S reset",
    .hint_read_only = "? help  Esc back  p dry-run  L log  d drivers",
    .draw = draw_detail,
    .key = detail_key,
    .open = open_detail,
    .close = close_detail,
    .panel = detail_panel,
    .selected = detail_selected,
    .reload = refresh_detail,
    .reload_with_list = 1,
};
