/* The jobs view (J): this session's jobs (running with their step, queued with their position,
 * done and failed with their final message), newest first; and the message history (M): every
 * message the message line showed, newest first. Both are panels (panel.h); their entries of the
 * view table are ui_jobs_view and ui_messages_view. */
#include "ui/console_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/text.h"
#include "common/xalloc.h"

#define MSG_KEEP 500

void ui_msg_remember(ui_role role, const char *text)
{
    if (ui_con.n_msgs == MSG_KEEP) {
        free(ui_con.msgs[0].text);
        memmove(ui_con.msgs, ui_con.msgs + 1, (MSG_KEEP - 1) * sizeof *ui_con.msgs);
        ui_con.n_msgs--;
    }
    if (!ui_con.msgs) {
        ui_con.msgs = xcalloc(MSG_KEEP, sizeof *ui_con.msgs);
    }
    ui_con.msgs[ui_con.n_msgs].text = xstrdup(text);
    ui_con.msgs[ui_con.n_msgs].role = role;
    ui_con.msgs[ui_con.n_msgs].at = time(NULL);
    ui_con.n_msgs++;
}

void ui_open_list_view(view_t v)
{
    free(ui_con.jobs_for);
    ui_con.jobs_for = NULL;
    ui_view_enter(v);
}

/* The open hooks: from the top; Esc goes back to the view J or M was first pressed in. */
static void open_jobs(view_t from)
{
    if (from != V_JOBS && from != V_MESSAGES) ui_con.lists_back = from;
    ui_panel_reset(&ui_con.jobs_panel);
}

static void open_messages(view_t from)
{
    if (from != V_JOBS && from != V_MESSAGES) ui_con.lists_back = from;
    ui_panel_reset(&ui_con.msgs_panel);
}

/* Esc, q: back to where J or M was pressed. */
static void close_rows(void)
{
    ui_con.view = ui_con.lists_back;
}

/* Whether the jobs view shows learner's rows (all, or only jobs_for's after :history USER). */
static int shown(const char *learner)
{
    return !ui_con.jobs_for || !strcmp(ui_con.jobs_for, learner);
}

/* Rows of the jobs view: queued actions first (in order), then jobs newest first; *queue_index
 * or *job gets the row's item. Returns 0 when r is past the end. */
static int jobs_row_item(size_t r, size_t *queue_index, const ui_job **job)
{
    *job = NULL;
    for (size_t i = 0; i < ui_con.n_queue; i++)
        if (shown(ui_con.queue[i].learner) && r-- == 0) return *queue_index = i, 1;
    for (size_t i = ui_con.n_jobs; i-- > 0;)
        if (shown(ui_con.jobs[i]->learner) && r-- == 0) return *job = ui_con.jobs[i], 1;
    return 0;
}

size_t ui_jobs_rows(void)
{
    size_t n = 0;
    for (size_t i = 0; i < ui_con.n_queue; i++) n += shown(ui_con.queue[i].learner);
    for (size_t i = 0; i < ui_con.n_jobs; i++) n += shown(ui_con.jobs[i]->learner);
    return n;
}

const char *ui_jobs_row_learner(size_t r)
{
    size_t q;
    const ui_job *j;
    if (!jobs_row_item(r, &q, &j)) return NULL;
    return j ? j->learner : ui_con.queue[q].learner;
}

/* One job's line and colour. */
static void job_line(const ui_job *j, char *line, size_t size, ui_role *role)
{
    const char *step = NULL;
    for (size_t i = 0; i < j->n_steps; i++)
        if (j->steps[i].status == UI_STEP_RUNNING || j->steps[i].status == UI_STEP_RETRYING) step = j->steps[i].start_state;
    char *name = ui_text_sanitize(j->learner, (size_t)-1);
    double secs = ((j->finished ? j->ended_ms : ui_now_ms()) - j->started_ms) / 1000.0;
    if (!j->finished) {
        snprintf(line, size, "running  %-30s %-34s pid %-7d %5.1f s%s%s", name, j->what, (int)j->pid, secs,
                 step ? "  at " : "", step ? step : "");
        *role = UR_RUNNING;
    } else {
        const char *msg = j->result_message ? j->result_message : "";
        snprintf(line, size, "%-8s %-30s %-34s exit %-4d %5.1f s  %s", j->outcome, name, j->what, j->exit_status, secs,
                 msg);
        *role = !strcmp(j->outcome, "complete") || !strcmp(j->outcome, "planned") ? UR_DONE
                : !strcmp(j->outcome, "cancelled") ? UR_RETRYING : UR_FAILED;
    }
    free(name);
    ui_text_flatten(line);
}

/* A row producer: row r's text and colour. */
typedef void (*row_text_fn)(size_t r, char *line, size_t size, ui_role *role);

/* Paints row r from the row producer in ctx (a panel row callback). */
static int text_row(void *ctx, size_t r, int y, int left, int sel)
{
    row_text_fn fn = *(row_text_fn *)ctx;
    (void)left;
    char line[1600];
    ui_role role = UR_NORMAL;
    fn(r, line, sizeof line, &role);
    ui_put(y, 0, COLS, sel ? UR_SELECTION : role, line, 1);
    return 1;
}

/* Draws the title, then panel p's n rows produced by fn (empty: what to say when there are none). */
static void draw_rows(const ui_screen_layout *L, const char *title, ui_panel *p, size_t n, row_text_fn fn,
                      const char *empty)
{
    int top = L->header_row;
    ui_fill_row(top, UR_HEADER);
    ui_put(top, 0, COLS, UR_HEADER, title, 0);
    ui_panel_draw(p, n, top + 1, L->list_rows, text_row, &fn);
    if (!n) ui_put(top + 2, 2, COLS - 4, UR_MUTED, empty, 0);
}

static void jobs_row(size_t r, char *line, size_t size, ui_role *role)
{
    size_t q = 0;
    const ui_job *j;
    if (!jobs_row_item(r, &q, &j)) {
        line[0] = '\0';
        return;
    }
    if (!j) {
        char *name = ui_text_sanitize(ui_con.queue[q].learner, (size_t)-1);
        const act_kind k = ui_con.queue[q].kind;
        snprintf(line, size, "queued   %-30s %-34s #%zu of %zu (waiting for one of %d workers)", name,
                 k == ACT_RESUME ? "resume" : "retire", q + 1, ui_con.n_queue, ui_con.workers);
        free(name);
        *role = UR_QUEUED;
        return;
    }
    job_line(j, line, size, role);
}

static void msgs_row(size_t r, char *line, size_t size, ui_role *role)
{
    const struct ui_message *m = &ui_con.msgs[ui_con.n_msgs - 1 - r];
    struct tm tm;
    localtime_r(&m->at, &tm);
    char when[16];
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    snprintf(line, size, "%s  %s", when, m->text);
    *role = m->role;
}

/* The jobs view: counts in the title, then queued actions and jobs. */
static void draw_jobs(const ui_screen_layout *L)
{
    size_t run, queued, done, failed;
    ui_job_counts(&run, &queued, &done, &failed);
    char title[1000];
    if (ui_con.jobs_for)
        snprintf(title, sizeof title, "Jobs of this session for %s (the retirement history store adds older ones)  "
                 "(Enter opens the learner, J shows all)", ui_con.jobs_for);
    else if (*ui_queue_stopped())
        snprintf(title, sizeof title, "Jobs of this session: %zu running, %zu queued, %zu done, %zu failed or refused  "
                 "QUEUE STOPPED: %s (R starts it again)", run, queued, done, failed, ui_queue_stopped());
    else
        snprintf(title, sizeof title, "Jobs of this session: %zu running, %zu queued, %zu done, %zu failed or refused  "
                 "(Enter opens the learner)", run, queued, done, failed);
    draw_rows(L, title, &ui_con.jobs_panel, ui_jobs_rows(), jobs_row, "no jobs in this session yet");
}

/* The messages view. */
static void draw_messages(const ui_screen_layout *L)
{
    char title[200];
    snprintf(title, sizeof title, "Messages of this session, newest first (%zu)", ui_con.n_msgs);
    draw_rows(L, title, &ui_con.msgs_panel, ui_con.n_msgs, msgs_row, "no messages yet");
}

/* Enter in the jobs view: opens the row's learner. */
static int jobs_key(ui_action a, long page)
{
    (void)page;
    if (a != UA_OPEN) return 0;
    const char *n = ui_jobs_row_learner(ui_con.jobs_panel.sel);
    if (n) ui_open_detail(n);
    return 1;
}

static ui_panel *jobs_panel(size_t *n)
{
    *n = ui_jobs_rows();
    return &ui_con.jobs_panel;
}

/* The selected row's learner (c cancels its job). */
static const char *jobs_selected(void)
{
    return ui_jobs_row_learner(ui_con.jobs_panel.sel);
}

static ui_panel *msgs_panel(size_t *n)
{
    *n = ui_con.n_msgs;
    return &ui_con.msgs_panel;
}

const ui_view_ops ui_jobs_view = {
    .title = "jobs",
    .key_bit = UI_VIEW_JOBS,
    .hint = "? help  q back  Enter open learner  c cancel  M messages",
    .hint_read_only = "? help  q back  Enter open learner  M messages",
    .draw = draw_jobs,
    .key = jobs_key,
    .open = open_jobs,
    .close = close_rows,
    .panel = jobs_panel,
    .selected = jobs_selected,
};

const ui_view_ops ui_messages_view = {
    .title = "messages",
    .key_bit = UI_VIEW_MESSAGES,
    .hint = "? help  q back  J jobs",
    .hint_read_only = "? help  q back  J jobs",
    .draw = draw_messages,
    .open = open_messages,
    .close = close_rows,
    .panel = msgs_panel,
};
