/* Private to the console (src/ui/console*.c, dialogs.c, view_*.c): the one console state and
 * the functions its files share. Not part of the ui module's interface (that is ui.h).
 * Everything here runs on the console's single thread; curses is initialised by ui_run.
 * Files: console.c (setup, poll loop, the view table and key dispatch through it),
 * console_screen.c (drawing primitives, status bar, message line, help), console_feeds.c (the
 * fetch children: list, record, drivers), console_jobs.c (the jobs the console starts, and what
 * they know about learners' states), dialogs.c (confirmations and the reset picker), command.c
 * (the : command line), view_list.c, view_detail.c, view_log.c, view_jobs.c (jobs and
 * messages), view_drivers.c (one view each, each defining its ui_view_ops entry), panel.h (the
 * list widget every scrolling list uses). See docs/architecture.md, "Console views and lists". */
#ifndef RETIRECTL_UI_CONSOLE_INTERNAL_H
#define RETIRECTL_UI_CONSOLE_INTERNAL_H

#include <curses.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "common/strbuf.h"
#include "common/xalloc.h"
#include "ui/elsewhere.h"
#include "ui/job.h"
#include "ui/layout.h"
#include "ui/model.h"
#include "ui/panel.h"
#include "ui/theme.h"
#include "ui/ui.h"

typedef enum view_t { V_LIST, V_DETAIL, V_DRIVERS, V_LOG, V_JOBS, V_MESSAGES, V_COUNT } view_t;

/* What a view does, one entry per view (as tig's view_ops): the console dispatches drawing,
 * keys, opening and closing through the current view's entry instead of switching on the view.
 * Each view_*.c file defines its own; console.c holds the table (ui_view). */
typedef struct ui_view_ops {
    const char *title;       /* the crumb after the tab's name ("learner"); NULL: draw paints the tabs row */
    unsigned key_bit;        /* the view's UI_VIEW_* bit in the key table (keys.h) */
    const char *hint;        /* the status bar's key hints, and with --read-only */
    const char *hint_read_only;
    void (*draw)(const ui_screen_layout *L);
    /* Runs key action a the view's own way (page: rows a page moves); returns 0 to leave it to
     * the view's panel (the moving keys) and then to the console's common actions. */
    int (*key)(ui_action a, long page);
    /* The view became the current one, opened from view `from` (NULL: nothing to set up). */
    void (*open)(view_t from);
    /* Esc, q: back to the view it was opened from (NULL: the view is never closed). */
    void (*close)(void);
    /* The view's list widget and its number of rows (NULL: it has none). */
    ui_panel *(*panel)(size_t *n);
    /* The learner the next action applies to, or NULL (NULL hook: the list's selection). */
    const char *(*selected)(void);
    /* F5: fetch again what the view shows besides the list (NULL: nothing more). */
    void (*reload)(void);
    int reload_with_list;    /* reload also when the list is fetched on its clock, while watched */
    int acts_on_marks;       /* r and u apply to the marked learners (the list) */
    int pipeline_banner;     /* the message line says when the pipeline cannot run */
} ui_view_ops;

/* ACT_RERUN_STEP: rerun the step an ERRORED learner failed at (rerun --advance), then offer to
 * continue the pipeline from the next step. */
typedef enum act_kind {
    ACT_RETIRE, ACT_RESUME, ACT_RERUN, ACT_RERUN_STEP, ACT_PLAN, ACT_RESET, ACT_CANCEL, ACT_QUIT
} act_kind;

/* The learner list is fetched in groups of states, each refreshed on its own clock: the groups
 * the visible tab shows every console.refresh_seconds while the operator is active, the others
 * (and all of them once the console is idle) every console.background_refresh_seconds. */
enum { FG_PENDING, FG_PIPE, FG_ERRORED, FG_DONE, FG_COUNT };
#define FG_ALL ((1u << FG_COUNT) - 1)

typedef struct driver_row {
    char *name, *source, *version, *error, *method; /* method NULL: the driver's own row */
    int line, builtin;
} driver_row;

typedef struct queued_action {
    char *learner;
    act_kind kind;
    char *arg;
    char *reason;            /* the operator's reason/ticket, or NULL */
    unsigned long pool_id;   /* its item in the job pool that schedules the queue (console_jobs.c) */
} queued_action;

typedef struct dialog {
    int active;
    act_kind kind;
    char title[160];
    char **lines;            /* sanitized */
    size_t n_lines;
    size_t n_keep;           /* leading lines a redescription after a refresh keeps */
    int typed;               /* production or over console.max_bulk: type expect (or expect_alt) */
    char expect[256];
    char expect_alt[32];     /* one learner: its LMS user id also confirms (S3) */
    char input[256];
    int asks_reason;         /* a state-changing dialog: the reason/ticket field is shown */
    int reason_required;     /* console.require_reason */
    int focus;               /* DLG_FOCUS_* */
    char reason[256];
    char **learners;         /* raw usernames */
    size_t n_learners;
    char *arg;               /* rerun: DRIVER.METHOD; reset: new state */
    char *arg2;              /* reset: initial state */
    char *arg3;              /* reset: date */
    pid_t cancel_pid;
    int scroll;
    int force;               /* confirming runs the action with --force: typed `force NAME` (ui_open_dialog) */
} dialog;

enum { DLG_FOCUS_CONFIRM = 0, DLG_FOCUS_REASON = 1 };

typedef struct picker {
    int active;
    char title[160];
    char **labels;           /* sanitized */
    char **values;
    size_t n;
    ui_panel panel;          /* the selected state */
    char *learner;
} picker;

typedef struct field {
    char *key, *value;       /* sanitized */
} field;

/* The console's whole state; owns every pointer in it (the options and config are borrowed). */
typedef struct ui_console {
    const ui_options *o;
    ui_theme theme;
    int mono;
    attr_t attr[UR_COUNT];
    ui_pipeline pipe;
    const char **queue_states;
    size_t n_queue_states;
    long cool_off_days;
    long history_days;       /* Complete tab: changed in that many days (0: all) */
    long cleanup_cool_off_days; /* console.cleanup_cool_off_days: cleanup's window (ui/cleanup_due.h) */
    size_t cleanup_due;      /* COMPLETE learners of the shown list that cleanup would delete now */
    double refresh_s;
    double step_timeout_s;
    double max_retry_s;      /* http.max_retry_seconds: a retrying request gives up after it */   /* config step_timeout_seconds: a fresher working state may be running */
    int workers;
    int max_failures; /* console.max_consecutive_failures: the pool's step circuit breaker (0: off) */
    long max_bulk;           /* console.max_bulk: more marked learners need the typed count */
    int require_reason;      /* console.require_reason (default: true in production) */
    int production;
    char env[64];
    char host[256];
    int force_next;          /* the next ui_ask_retire's one learner may be forced (ui_refuse_busy_ex said 2) */
    char lms[1024];          /* base_urls.lms as configured: the key of the learners' leases */

    ui_store store, next;
    int have_store;
    int store_partial;       /* the first screenful only (a limited request); the rest is coming */
    const char **group_states[FG_COUNT];
    size_t n_group_states[FG_COUNT];
    double group_at[FG_COUNT];  /* when each group was last fetched (monotonic ms; 0 never) */
    unsigned fetch_groups;   /* groups the running fetch asked for */
    int fetch_quick;         /* the running fetch is the first-screenful one */
    char since[16];          /* COMPLETE/ABORTED created since (history_days), "" for all */
    double background_s;     /* console.background_refresh_seconds */
    double idle_s;           /* console.idle_seconds: no key for that long = idle */
    double last_key_ms;
    pid_t fetch_pid;
    int fetch_fd;
    strbuf fetch_buf;
    double next_refresh_ms;
    time_t last_refresh_wall;
    char fetch_error[512];

    pid_t status_pid;
    int status_fd;
    strbuf status_buf;
    char *status_for;
    field *fields, *fields_next;
    size_t n_fields, n_fields_next;
    char status_error[512];

    pid_t drivers_pid;
    int drivers_fd;
    strbuf drivers_buf;
    driver_row *drivers;
    size_t n_drivers;
    char **problems;
    size_t n_problems;
    int drivers_loaded;
    char *drivers_for;       /* learner a rerun from the drivers view applies to */

    ui_job **jobs;
    size_t n_jobs;
    queued_action *queue;
    size_t n_queue;

    view_t view;
    view_t drivers_back;
    ui_tab tab;
    ui_panel list[UI_TAB_COUNT]; /* each tab's selection and scroll */
    char filter[256];
    int filter_editing;
    char cmd[300];           /* the : command line being typed */
    int cmd_editing, cmd_quit;
    ui_sort sort;            /* list order (o cycles, O reverses) */
    int sort_desc;
    char *detail;
    ui_panel steps;          /* the detail view's selected pipeline step */
    int log_scroll;          /* detail log panel: screen rows up from the bottom */
    int detail_log_page;     /* rows of the detail log panel (last drawn) */
    char *log_for;           /* full-screen log view: whose job log */
    view_t log_back;
    int log_top, log_follow, log_match, log_page, log_max_top; /* rows; match -1 none */
    char log_search[256];
    int log_search_editing;
    ui_panel drv;            /* the drivers view's rows (drivers, then problems) */
    size_t drv_expanded;     /* drivers view row whose full error is shown, + 1 (0: none) */
    int help;
    int help_scroll;
    dialog dlg;
    picker pk;
    char message[512];
    ui_role message_role;
    struct ui_message {
        char *text;          /* sanitized */
        ui_role role;
        time_t at;
    } *msgs;                 /* message history (M), oldest first */
    size_t n_msgs;
    view_t lists_back;       /* the view the jobs or messages view was opened from */
    char *jobs_for;          /* the jobs view shows only this learner's jobs (:history), or NULL */
    ui_panel jobs_panel, msgs_panel; /* the jobs and messages views */
    double message_until;
    int dirty;
    int quit;
    unsigned spin;
    FILE *trace;
    unsigned long frame_seq;
    int last_key;
    int traced_complete;
    int refetch;             /* a job ended while a fetch was running: fetch again right after */
    double fetch_started_ms; /* when the fetch now running started */
    double store_from_ms;    /* when the fetch that produced the shown list started */
} ui_console;

/* The one console (defined in console.c, zeroed by ui_run). */
extern ui_console ui_con;

/* ---------- console.c ---------- */

/* The current view's entry of the view table. */
const ui_view_ops *ui_view(void);
/* Makes v the current view (its open hook runs, told the view it was opened from). */
void ui_view_enter(view_t v);

/* The learner the next action applies to: the open record, the drivers view's learner, else the
 * list selection; NULL when there is none. Borrowed. */
const char *ui_selected_name(void);
/* The key table's view bit (keys.h) of the current view. */
unsigned ui_view_bit(void);
/* p: dry-runs the selected learner's pipeline (a plan job); show: open its detail view. */
void ui_plan_selected(int show);
/* The view table's entry of view v. */
const ui_view_ops *ui_view_of(view_t v);
/* The number of marked learners r and u apply to: 0 unless the current view acts on the marks
 * (the list) and some are marked. */
size_t ui_marked_bulk(void);

/* The views' entries of the view table (each in its view_*.c file). */
extern const ui_view_ops ui_list_view, ui_detail_view, ui_drivers_view, ui_log_view, ui_jobs_view, ui_messages_view;

/* ---------- console_screen.c ---------- */

/* Monotonic clock in milliseconds. */
double ui_now_ms(void);
/* Edits a typed text field with key ch: Backspace deletes a character (UTF-8 aware), printable
 * bytes append (size includes the NUL). Returns 1 when ch was an edit. */
int ui_edit_field(char *text, size_t size, int ch);
/* Shows a sanitized message on the message line for 8 seconds. */
void ui_msg(ui_role role, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Draws text at y,x fitted to width cells (sanitizing it first); pad fills the rest. */
void ui_put(int y, int x, int width, ui_role role, const char *text, int pad);
/* Paints row y in role's colours. */
void ui_fill_row(int y, ui_role role);
/* Appends a line to the RETIRECTL_UI_TRACE file, if one is open. */
void ui_tlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ui_draw_status(const ui_screen_layout *L);
void ui_draw_message(const ui_screen_layout *L);
/* A centered box; returns its geometry. */
void ui_draw_box(int h, int w, int *y0, int *x0, ui_role role);
/* Splits sanitized text into pieces of at most width cells (see console_screen.c); returns the
 * count, the pieces malloc'd into *out (caller frees each and the array). */
size_t ui_wrap_text(const char *s, int width, char ***out);
/* The key help of the current view, full screen. */
void ui_draw_help(void);

/* ---------- console_feeds.c ---------- */

/* Starts fetching every group of the learner list now (no-op while a fetch runs). */
void ui_start_fetch(void);
/* Starts fetching the groups that are due (see FG_*), if any and none runs. */
void ui_fetch_due(void);
/* When the next group falls due (monotonic ms), for the loop's poll timeout. */
double ui_fetch_next_due(void);
/* Which group a state's learners are fetched in. */
int ui_fetch_group_of(const char *state);
/* Starts fetching name's LMS record (replacing a fetch for another learner). */
void ui_start_status(const char *name);
/* Starts listing the drivers (no-op while one runs). */
void ui_start_drivers(void);
/* Reaps a fetch child; traces its peak memory; sets *pid to 0. */
void ui_reap_child(pid_t *pid, const char *what);
/* Read what a fetch child wrote; at end of file, take its result. */
void ui_on_fetch_readable(void);
void ui_on_status_readable(void);
void ui_on_drivers_readable(void);

/* ---------- console_jobs.c ---------- */

/* The learner in the shown list, or NULL. */
ui_learner *ui_find_learner(const char *name);
/* name's state (and the state before it): from a job that ended after the list was fetched,
 * else from the list; NULL when the learner is not in the list. Borrowed. */
const char *ui_learner_state(const char *name);
const char *ui_learner_last_state(const char *name);
/* The most recent job for learner (running ones only if running_only), or NULL. */
ui_job *ui_learner_job(const char *learner, int running_only);
/* Refuses (with a message naming where and since when, and returns 1) when a job for learner
 * runs here or elsewhere (ui_running_elsewhere); 0 when the learner is free. */
int ui_refuse_busy(const char *learner);
/* As ui_refuse_busy, but when the only evidence is the cross-host one (a working state changed
 * within step_timeout_seconds, pid unknown) and allow_force: no message, returns 2 (the caller's
 * dialog then offers --force, typed: see ui_open_dialog and dialog.force). */
int ui_refuse_busy_ex(const char *learner, int allow_force);
/* Whether name is worked on by a process other than this console's jobs (elsewhere.h). */
int ui_learner_elsewhere(const char *name, ui_elsewhere *w);
/* Is learner name's lease held by a process that is not one of this console's jobs? (visible rows) */
int ui_learner_leased(const char *name);
/* Who holds learner name's lease on this host, this console's own jobs included (Stuck tab's JOB). */
int ui_learner_lease_holder(const char *name, ui_elsewhere *w);
/* Jobs still working: no result event yet and the process not reaped. */
size_t ui_running_jobs(void);
/* The console pool's counts of this session's jobs (running, queued, done, failed or refused),
 * as `retire --all` counts them (engine/job_pool.h). */
void ui_job_counts(size_t *running, size_t *queued, size_t *done, size_t *failed);
/* Why the queue stopped starting actions (a circuit breaker), "" while it runs. */
const char *ui_queue_stopped(void);
/* Starts the queue again after a circuit breaker stopped it (the R key of the jobs view). */
void ui_restart_queue(void);
/* Starts one job now (arg: rerun DRIVER.METHOD or reset new state; arg2, arg3: reset's initial
 * state and date). force: pass --force (resume, rerun, reset of a fresh working state). */
void ui_start_action(const char *learner, act_kind kind, const char *arg, const char *arg2, const char *arg3,
                     const char *reason, int force);
/* Queues an action; ui_run_queue starts at most console.workers at a time. reason: the
 * operator's reason/ticket (audit log), or NULL/"" for the default text. */
void ui_queue_action(const char *learner, act_kind kind, const char *arg, const char *reason);
void ui_run_queue(void);
/* Feeds what a job wrote on stdout (stream 0) or stderr (1) to its record. */
void ui_on_job_readable(ui_job *j, int stream);
/* Reaps jobs that closed both pipes; reports them and schedules a refresh. */
void ui_reap_jobs(void);

/* ---------- dialogs.c ---------- */

/* Closes the dialog and frees what it holds. */
void ui_dialog_clear(void);
/* Adds a (sanitized) line to the dialog being built. */
void ui_dlg_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Shows the dialog built so far (production: typed confirmation, except cancel and quit). */
void ui_open_dialog(act_kind kind, const char *title);
/* Ask before retiring (or resuming) the marked learners, else the selected one. */
void ui_ask_retire(int resume);
/* After a refresh, an open retire/resume dialog describes the new states. */
void ui_redescribe_dialog(void);
void ui_ask_rerun(const char *learner, const char *driver, const char *method);
/* After a failed step reran well (rerun --advance): asks whether to continue learner's pipeline
 * from the step after step (a retire dialog), or says how when another dialog is open. */
void ui_offer_continue(const char *learner, int step);
/* After the CLI refused job j (exit 253) because the learner's working state changed within
 * step_timeout_seconds: explains it and offers to run it again with --force (typed confirmation). */
void ui_offer_force(const ui_job *j, const char *why);
void ui_ask_cancel(void);
/* Opens the picker of states to reset the selected learner to. */
void ui_ask_reset_pick(void);
void ui_draw_dialog(void);
void ui_draw_picker(void);
void ui_handle_dialog_key(int ch);
void ui_handle_picker_key(int ch);

/* ---------- command.c ---------- */

/* A key while the : command line is typed (Enter runs it, Tab completes, Esc closes). */
void ui_command_key(int ch);

/* ---------- view_list.c ---------- */

/* The selected learner of the list, or NULL; and its username (borrowed), or NULL. */
const ui_learner *ui_selected_learner(void);
const char *ui_list_selected_name(void);
/* A key while the / filter is typed (Enter keeps it, Esc clears it, Up and Down move). */
void ui_list_filter_key(int ch);
/* ---------- view_history.c ---------- */
/* The REASON (Failed tab) / JOB (Stuck tab) column from the retirement history, right of the
 * list's columns (over AGE and CHANGED when the terminal is narrow), for the rows top.. shown. */
void ui_draw_history_column(const ui_screen_layout *L, const ui_column *cols, int nc, size_t top, size_t rows);
/* The failed step's note for learner name from the history ("403 forum: permission denied
 * (history; resume with u)"), or NULL when the history has none. Static buffer. */
const char *ui_history_failure_note(const char *name);

/* ---------- view_detail.c ---------- */

/* Opens name's record: its pipeline, LMS record fields and job log. */
void ui_open_detail(const char *name);

/* ---------- view_log.c ---------- */

/* A job log wrapped to a width: one entry per screen row (text malloc'd, sanitized). */
typedef struct ui_log_rows {
    char **text;
    ui_role *role;
    size_t *line;            /* the log line each row comes from */
    size_t n;
} ui_log_rows;

void ui_log_rows_build(const ui_job *j, int width, ui_log_rows *r);
void ui_log_rows_free(ui_log_rows *r);
/* Draws the newest h rows of j's log at row y, *from_bottom rows up (clamped so the first row
 * is the top); returns the first row shown. */
int ui_draw_log_panel(int y, int h, int w, const ui_job *j, int *from_bottom);
/* Opens the full-screen log of the selected learner's job (following it). */
void ui_open_log(void);
void ui_log_search_key(int ch);

/* ---------- view_jobs.c ---------- */

/* Keeps a shown message in the history (the messages view). */
void ui_msg_remember(ui_role role, const char *text);
/* Opens the jobs (V_JOBS) or messages (V_MESSAGES) view. */
void ui_open_list_view(view_t v);
/* Rows of the jobs view, and the learner of row r (NULL when none). */
size_t ui_jobs_rows(void);
const char *ui_jobs_row_learner(size_t r);

/* ---------- view_drivers.c ---------- */

/* Opens the drivers view (for the learner selected now). */
void ui_open_drivers(void);
/* 1 with the reason in why when pipeline step's driver or method cannot load (from the drivers
 * list, fetched at start); 0 when it can, or while the list is not known yet. */
int ui_step_cannot_run(size_t step, char *why, size_t why_size);
/* 1 with "step N D.M: why" when a pipeline step cannot run (its driver does not load). */
int ui_pipeline_problem(char *why, size_t why_size);


#endif
