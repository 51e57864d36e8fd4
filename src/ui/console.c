/* The ncurses console (see ui.h): setup, the poll loop, and dispatch of keys and actions. One
 * thread; the loop poll()s the terminal, the fetch children's pipes, the job pipes and a timer,
 * and redraws only when something changed. The views, dialogs, jobs and fetches live in the files
 * listed in console_internal.h. */
#include "ui/console_internal.h"
#include "ui/cleanup_due.h"

#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/paths.h"
#include "ui/fetch.h"
#include "ui/keys.h"
#include "ui/text.h"
#include "common/xalloc.h"

ui_console ui_con;

static volatile sig_atomic_t g_quit_signal;
static int g_curses_on;

/* ---------- terminal restore on every exit path ---------- */

/* Ends curses once (atexit and the normal exit path). */
static void restore_terminal(void)
{
    if (g_curses_on) {
        g_curses_on = 0;
        endwin();
    }
}

/* Fatal signals: restore the terminal, say so, and die by the same signal. */
static void crash_handler(int sig)
{
    /* endwin is not async-signal-safe, but the process is dying and a usable terminal matters more */
    if (g_curses_on) {
        g_curses_on = 0;
        endwin();
    }
    static const char text[] = "\nretirectl: the console crashed; the terminal was restored. Jobs it started keep running.\n";
    ssize_t w = write(STDERR_FILENO, text, sizeof text - 1);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

/* SIGTERM, SIGINT, SIGHUP, SIGQUIT: the loop stops at its next turn. */
static void quit_handler(int sig)
{
    g_quit_signal = sig;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = crash_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    const int crash[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof crash / sizeof crash[0]; i++) sigaction(crash[i], &sa, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = quit_handler;
    sigemptyset(&sa.sa_mask);
    const int quit[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof quit / sizeof quit[0]; i++) sigaction(quit[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    atexit(restore_terminal);
}

/* ---------- theme ---------- */

/* Curses attributes of a theme style (colours aside). */
static attr_t style_attrs(const ui_style *s)
{
    attr_t a = A_NORMAL;
    if (s->attrs & UI_ATTR_BOLD) a |= A_BOLD;
    if (s->attrs & UI_ATTR_DIM) a |= A_DIM;
    if (s->attrs & UI_ATTR_UNDERLINE) a |= A_UNDERLINE;
    if (s->attrs & UI_ATTR_REVERSE) a |= A_REVERSE;
    if (s->attrs & UI_ATTR_STANDOUT) a |= A_STANDOUT;
    return a;
}

/* Sets ui_con.attr for every role (with colour pairs when the terminal has colours). */
static void apply_theme(void)
{
    int colour = !ui_con.mono && has_colors();
    if (colour) {
        start_color();
        use_default_colors();
    }
    for (int r = 0; r < UR_COUNT; r++) {
        const ui_style *s = &ui_con.theme.roles[r];
        ui_con.attr[r] = style_attrs(s);
        if (colour && (s->fg >= 0 || s->bg >= 0)) {
            short fg = s->fg < COLORS ? s->fg : (short)(s->fg % 8);
            short bg = s->bg < COLORS ? s->bg : (short)(s->bg % 8);
            if (init_pair((short)(r + 1), fg, bg) == OK) ui_con.attr[r] |= COLOR_PAIR(r + 1);
        }
    }
}

/* ---------- the view table ---------- */

/* One entry per view (view_t); each is defined in its view_*.c file. */
static const ui_view_ops *const view_table[V_COUNT] = {
    [V_LIST] = &ui_list_view, [V_DETAIL] = &ui_detail_view, [V_DRIVERS] = &ui_drivers_view,
    [V_LOG] = &ui_log_view,   [V_JOBS] = &ui_jobs_view,     [V_MESSAGES] = &ui_messages_view,
};

const ui_view_ops *ui_view_of(view_t v)
{
    return view_table[v];
}

const ui_view_ops *ui_view(void)
{
    return view_table[ui_con.view];
}

void ui_view_enter(view_t v)
{
    view_t from = ui_con.view;
    ui_con.view = v;
    if (view_table[v]->open) view_table[v]->open(from);
    ui_con.dirty = 1;
}

const char *ui_selected_name(void)
{
    const ui_view_ops *v = ui_view();
    return v->selected ? v->selected() : ui_list_selected_name();
}

unsigned ui_view_bit(void)
{
    return ui_view()->key_bit;
}

/* ---------- drawing and keys ---------- */

/* Redraws the screen: the view, message line and status bar, then a picker or dialog on top. */
static void draw(void)
{
    ui_screen_layout L = ui_layout_screen(LINES, COLS);
    const ui_view_ops *v = ui_view();
    erase();
    if (L.too_small) {
        ui_put(0, 0, COLS, UR_WARNING, "too small: resize", 0);
        if (LINES > 1) ui_put(1, 0, COLS, UR_NORMAL, "(q quits)", 0);
    } else if (ui_con.help) {
        ui_draw_help();
    } else {
        if (v->title) { /* a crumb: the tab, then the view */
            ui_fill_row(L.tabs_row, UR_TAB);
            char crumb[300];
            snprintf(crumb, sizeof crumb, " %s > %s", ui_tab_title(ui_con.tab), v->title);
            ui_put(L.tabs_row, 0, COLS, UR_TAB, crumb, 0);
        }
        v->draw(&L);
        ui_draw_message(&L);
        ui_draw_status(&L);
        if (ui_con.pk.active) ui_draw_picker();
        if (ui_con.dlg.active) ui_draw_dialog();
    }
    if ((ui_con.filter_editing || ui_con.log_search_editing || ui_con.cmd_editing) && !L.too_small) {
        const char *typed = ui_con.filter_editing ? ui_con.filter : ui_con.cmd_editing ? ui_con.cmd : ui_con.log_search;
        curs_set(1);
        move(L.message_row, 1 + ui_text_width(typed) < COLS ? 1 + ui_text_width(typed) : COLS - 1);
    } else {
        curs_set(0);
    }
    wnoutrefresh(stdscr);
    doupdate();
    ui_con.frame_seq++;
    if (ui_con.trace) {
        int complete = ui_con.have_store && !ui_con.store_partial && !ui_con.next.n;
        ui_tlog("frame %lu %.3f key %d complete %d rows %zu\n", ui_con.frame_seq, ui_now_ms(), ui_con.last_key, complete,
              ui_con.have_store ? ui_con.store.n : (size_t)0);
        ui_con.last_key = 0;
        if (complete && !ui_con.traced_complete) ui_con.traced_complete = 1;
    }
    ui_con.dirty = 0;
}

/* The jobs and queued actions the open quit dialog describes (see describe_quit). */
static size_t quit_said_running, quit_said_queued;

/* Writes the quit dialog's lines for the jobs running and queued now. */
static void describe_quit(void)
{
    size_t running = ui_running_jobs();
    for (size_t i = 0; i < ui_con.dlg.n_lines; i++) free(ui_con.dlg.lines[i]);
    ui_con.dlg.n_lines = 0;
    if (running) {
        ui_dlg_line("%zu job%s still running. They are not stopped: each finishes in the background", running,
                    running == 1 ? " is" : "s are");
        ui_dlg_line("and records its result at the LMS; its output is no longer shown.");
    }
    if (ui_con.n_queue)
        ui_dlg_line("%zu queued action%s (waiting for a worker) will NOT start.", ui_con.n_queue,
                    ui_con.n_queue == 1 ? "" : "s");
    if (!running && !ui_con.n_queue) ui_dlg_line("All jobs have finished: quitting now leaves nothing behind.");
    quit_said_running = running, quit_said_queued = ui_con.n_queue;
    ui_con.dirty = 1;
}

/* An open quit dialog keeps telling the truth as jobs end while it is shown. */
static void redescribe_quit(void)
{
    if (ui_con.dlg.active && ui_con.dlg.kind == ACT_QUIT &&
        (ui_running_jobs() != quit_said_running || ui_con.n_queue != quit_said_queued))
        describe_quit();
}

void ui_plan_selected(int show)
{
    const char *n = ui_selected_name();
    if (!n) {
        ui_msg(UR_WARNING, "no learner selected");
        return;
    }
    if (ui_learner_job(n, 1)) {
        ui_msg(UR_WARNING, "a job for %s is running; wait or cancel it (c)", n);
        return;
    }
    char *name = xstrdup(n);
    ui_start_action(name, ACT_PLAN, NULL, NULL, NULL, NULL, 0);
    if (show) ui_open_detail(name);
    ui_con.log_scroll = 0;
    free(name);
}

/* r, u: ask before retiring or resuming (one busy learner is refused, or offered --force). */
static void retire_selected(int resume)
{
    const char *n = ui_selected_name();
    int busy = n && !ui_marked_bulk() ? ui_refuse_busy_ex(n, resume) : 0;
    if (busy == 1) return;
    ui_con.force_next = busy == 2; /* one learner, cross-host evidence only: the dialog offers --force */
    ui_ask_retire(resume);
}

/* The actions every view shares (the key table says in which views a key works). */
static void common_action(ui_action a)
{
    const ui_view_ops *v = ui_view();
    switch (a) {
    case UA_QUIT:
    case UA_QUIT_ALL:
        if (ui_running_jobs() || ui_con.n_queue) {
            ui_dialog_clear();
            describe_quit();
            ui_open_dialog(ACT_QUIT, "Quit the console?");
        } else {
            ui_con.quit = 1;
        }
        break;
    case UA_HELP:
        ui_con.help = 1;
        ui_con.help_scroll = 0;
        break;
    case UA_BACK:
        if (v->close) v->close();
        break;
    case UA_REDRAW: clearok(curscr, TRUE); break;
    case UA_REFRESH:
        ui_start_fetch();
        if (v->reload) v->reload();
        break;
    case UA_LOG: ui_open_log(); break;
    case UA_COMMAND:
        ui_con.cmd_editing = 1;
        ui_con.cmd[0] = '\0';
        break;
    case UA_JOBS: ui_open_list_view(V_JOBS); break;
    case UA_MESSAGES: ui_open_list_view(V_MESSAGES); break;
    case UA_DRIVERS: ui_open_drivers(); break;
    case UA_PLAN: ui_plan_selected(1); break;
    case UA_RETIRE:
    case UA_RESUME: retire_selected(a == UA_RESUME); break;
    case UA_CANCEL: ui_ask_cancel(); break;
    case UA_RESET: ui_ask_reset_pick(); break;
    case UA_RESTART_QUEUE: ui_restart_queue(); break;
    default: break;
    }
}

/* Runs an action of the key map (keys.h): the current view's own way, else its panel's moving
 * keys, else the common actions. */
static void do_action(ui_action a)
{
    const ui_view_ops *v = ui_view();
    ui_screen_layout L = ui_layout_screen(LINES, COLS);
    long page = L.list_rows > 1 ? L.list_rows - 1 : 1;
    size_t n = 0;
    ui_panel *p = v->panel ? v->panel(&n) : NULL;
    if (!(v->key && v->key(a, page)) && !(p && ui_panel_key(p, n, a, page))) common_action(a);
    ui_con.dirty = 1;
}

/* Routes a key: help, dialog, picker, filter editing, else the key map. */
static void handle_key(int ch)
{
    ui_con.last_key = ch;
    ui_con.last_key_ms = ui_now_ms();
    if (ch == KEY_RESIZE) {
        ui_con.dirty = 1;
        return;
    }
    if (ui_con.help) {
        if (ch == KEY_DOWN || ch == 'j') ui_con.help_scroll++;
        else if (ch == KEY_UP || ch == 'k') ui_con.help_scroll = ui_con.help_scroll ? ui_con.help_scroll - 1 : 0;
        else ui_con.help = 0;
        ui_con.dirty = 1;
        return;
    }
    if (ui_con.dlg.active) {
        ui_handle_dialog_key(ch);
        return;
    }
    if (ui_con.pk.active) {
        ui_handle_picker_key(ch);
        return;
    }
    if (ui_con.filter_editing) {
        ui_list_filter_key(ch);
        ui_con.dirty = 1;
        return;
    }
    if (ui_con.log_search_editing) {
        ui_log_search_key(ch);
        return;
    }
    if (ui_con.cmd_editing) {
        ui_command_key(ch);
        if (ui_con.cmd_quit) ui_con.cmd_quit = 0, do_action(UA_QUIT_ALL);
        return;
    }
    unsigned view = ui_view_bit();
    ui_action a = ui_key_lookup(ch, view, ui_con.o->read_only);
    if (a == UA_NONE) {
        if (ui_con.o->read_only && ui_key_lookup(ch, view, 0) != UA_NONE)
            ui_msg(UR_WARNING, "read-only console: actions that change state are disabled");
        return;
    }
    do_action(a);
}

/* ---------- setup and loop ---------- */

/* Reads what the console needs from the config: pipeline, states to list, refresh period,
 * cool-off and history days, workers, environment and LMS host. */
static void setup_config(void)
{
    const cfg *c = ui_con.o->config;
    ui_con.pipe.n = c->n_steps;
    ui_con.pipe.start = xcalloc(c->n_steps + 1, sizeof(char *));
    ui_con.pipe.end = xcalloc(c->n_steps + 1, sizeof(char *));
    ui_con.pipe.driver = xcalloc(c->n_steps + 1, sizeof(char *));
    ui_con.pipe.method = xcalloc(c->n_steps + 1, sizeof(char *));
    const cJSON *extra = cfg_get(c, "console.states");
    size_t n_extra = cJSON_IsArray(extra) ? (size_t)cJSON_GetArraySize(extra) : 0;
    ui_con.queue_states = xcalloc(2 * c->n_steps + 5 + n_extra, sizeof(char *));
    for (size_t i = 0; i < c->n_steps; i++) {
        ui_con.pipe.start[i] = c->steps[i].start_state;
        ui_con.pipe.end[i] = c->steps[i].end_state;
        ui_con.pipe.driver[i] = c->steps[i].driver;
        ui_con.pipe.method[i] = c->steps[i].method;
    }
    /* every state the console shows: PENDING, the pipeline's, and the dead ends */
    const char *add[] = {"PENDING"};
    ui_con.queue_states[ui_con.n_queue_states++] = add[0];
    for (size_t i = 0; i < c->n_steps; i++) {
        const char *two[2] = {c->steps[i].start_state, c->steps[i].end_state};
        for (int k = 0; k < 2; k++) {
            int dup = 0;
            for (size_t q = 0; q < ui_con.n_queue_states; q++) dup |= strcmp(ui_con.queue_states[q], two[k]) == 0;
            if (!dup) ui_con.queue_states[ui_con.n_queue_states++] = two[k];
        }
    }
    /* console.states: more states to list (e.g. LOCKING_ACCOUNT, a state of another pipeline) */
    const cJSON *it;
    cJSON_ArrayForEach(it, extra) {
        if (!cJSON_IsString(it) || !*it->valuestring) continue;
        int dup = 0;
        for (size_t q = 0; q < ui_con.n_queue_states; q++) dup |= strcmp(ui_con.queue_states[q], it->valuestring) == 0;
        if (!dup) ui_con.queue_states[ui_con.n_queue_states++] = it->valuestring;
    }
    ui_con.queue_states[ui_con.n_queue_states++] = "ERRORED";
    ui_con.queue_states[ui_con.n_queue_states++] = "ABORTED";
    ui_con.queue_states[ui_con.n_queue_states++] = "COMPLETE";
    /* the fetch groups (console_feeds.c) */
    for (int g = 0; g < FG_COUNT; g++) {
        ui_con.group_states[g] = xcalloc(ui_con.n_queue_states + 1, sizeof(char *));
    }
    for (size_t q = 0; q < ui_con.n_queue_states; q++) {
        int g = ui_fetch_group_of(ui_con.queue_states[q]);
        ui_con.group_states[g][ui_con.n_group_states[g]++] = ui_con.queue_states[q];
    }
    ui_con.refresh_s = cfg_number(c, "console.refresh_seconds", 10);
    if (ui_con.refresh_s < 1) ui_con.refresh_s = 1;
    ui_con.step_timeout_s = c->step_timeout_seconds > 0 ? c->step_timeout_seconds : 900;
    ui_con.max_retry_s = c->http.max_retry_seconds > 0 ? c->http.max_retry_seconds : 600;
    ui_con.cool_off_days = (long)cfg_number(c, "console.cool_off_days", cfg_number(c, "cool_off_days", 7));
    ui_con.cleanup_cool_off_days = (long)cfg_number(c, "console.cleanup_cool_off_days", UI_CLEANUP_COOL_OFF_DAYS);
    /* COMPLETE/ABORTED: only requests created in the last history_days are fetched (default 90, as the history's retention;
     * 0 fetches them all) */
    ui_con.history_days = (long)cfg_number(c, "console.history_days", cfg_number(c, "history_days", 90));
    if (ui_con.history_days > 0) {
        time_t since = time(NULL) - (time_t)ui_con.history_days * 86400;
        struct tm tm;
        gmtime_r(&since, &tm);
        strftime(ui_con.since, sizeof ui_con.since, "%Y-%m-%d", &tm);
    }
    ui_con.background_s = cfg_number(c, "console.background_refresh_seconds", 0);
    if (ui_con.background_s <= 0) ui_con.background_s = ui_con.refresh_s * 6 > 60 ? ui_con.refresh_s * 6 : 60;
    if (ui_con.background_s < ui_con.refresh_s) ui_con.background_s = ui_con.refresh_s;
    ui_con.idle_s = cfg_number(c, "console.idle_seconds", 60);
    ui_con.workers = (int)cfg_number(c, "console.workers", cfg_number(c, "workers", 4));
    if (ui_con.workers < 1) ui_con.workers = 1;
    ui_con.max_bulk = (long)cfg_number(c, "console.max_bulk", 300);
    if (ui_con.max_bulk < 1) ui_con.max_bulk = 1;
    if (ui_con.workers > 64) ui_con.workers = 64;
    ui_con.max_failures = (int)cfg_number(c, "console.max_consecutive_failures", 5);
    if (ui_con.max_failures < 0) ui_con.max_failures = 0;
    snprintf(ui_con.env, sizeof ui_con.env, "%s", c->environment ? c->environment : "");
    ui_con.production = c->environment && strcasecmp(c->environment, "production") == 0;
    ui_con.require_reason = cfg_bool(c, "console.require_reason", ui_con.production);
    const char *lms = cfg_string(c, "base_urls.lms");
    snprintf(ui_con.lms, sizeof ui_con.lms, "%s", lms ? lms : "");
    const char *h = lms ? strstr(lms, "://") : NULL;
    h = h ? h + 3 : lms ? lms : "no LMS";
    snprintf(ui_con.host, sizeof ui_con.host, "%s", h);
    char *slash = strchr(ui_con.host, '/');
    if (slash) *slash = '\0';
}

/* Theme, config and terminal: everything before the first turn of the loop. Returns -1 with
 * err set (and the terminal restored) when the console cannot start. */
static int start_console(const ui_options *o, char *err, size_t err_len)
{
    memset(&ui_con, 0, sizeof ui_con);
    ui_con.o = o;
    ui_con.fetch_fd = ui_con.status_fd = ui_con.drivers_fd = -1;
    for (int t = 0; t < UI_TAB_COUNT; t++) ui_con.list[t].fill = 1;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(err, err_len, "the console needs a terminal on stdin and stdout (for scripts use retirectl queue, "
                               "status or retire)");
        return -1;
    }
    const char *tname = o->theme;
    if (!tname || !*tname) tname = cfg_string(o->config, "console.theme");
    ui_con.mono = o->no_color;
    char *themes_dir = paths_theme_dir();
    int theme_rc = ui_theme_load(&ui_con.theme, ui_con.mono ? "mono" : tname, themes_dir, err, err_len);
    free(themes_dir);
    if (theme_rc) return -1;
    setup_config();
    const char *tr = getenv("RETIRECTL_UI_TRACE");
    if (tr && *tr) ui_con.trace = fopen(tr, "a");
    ui_tlog("start %.3f\n", ui_now_ms());

    setlocale(LC_ALL, "");
    set_escdelay(25);
    install_signals();
    if (!initscr()) {
        snprintf(err, err_len, "cannot initialise the terminal (TERM=%s)", getenv("TERM") ? getenv("TERM") : "unset");
        return -1;
    }
    g_curses_on = 1;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    apply_theme();
    bkgdset(ui_con.attr[UR_NORMAL] | ' ');

    if (ui_fetch_init(o->config, err, err_len) != 0) {
        restore_terminal();
        return -1;
    }
    ui_con.next_refresh_ms = 1e300;
    ui_con.last_key_ms = ui_now_ms();
    ui_start_fetch();
    ui_start_drivers(); /* which pipeline steps cannot run: the retire dialog and a banner say so */
    ui_con.dirty = 1;
    return 0;
}

/* The loop's timers at time t: due fetches (the watched view follows the list), queued actions,
 * ended jobs, the spinner, the error countdown and the message line's expiry. Returns whether
 * something animates (the loop then wakes for *next_tick). */
static int run_timers(double t, double *next_tick)
{
    if (ui_con.fetch_pid <= 0) {
        int forced = t >= ui_con.next_refresh_ms;
        pid_t before = ui_con.fetch_pid;
        ui_fetch_due();
        /* the open record refreshes with the list when the operator looks at it */
        const ui_view_ops *v = ui_view();
        if (ui_con.fetch_pid != before && (forced || t - ui_con.last_key_ms < ui_con.idle_s * 1000) &&
            v->reload_with_list && v->reload)
            v->reload();
    }
    ui_run_queue();
    ui_reap_jobs();
    redescribe_quit();
    int animate = ui_running_jobs() || ui_con.fetch_pid > 0 || ui_con.status_pid > 0 || ui_con.drivers_pid > 0;
    if (animate && t >= *next_tick) {
        ui_con.spin++;
        ui_con.dirty = 1;
        *next_tick = t + 250;
    }
    if (ui_con.fetch_error[0]) { /* the status bar counts down to the next try */
        static long shown_left = -1;
        long left = ui_con.fetch_pid > 0 ? -1 : (long)((ui_con.next_refresh_ms - t) / 1000.0 + 0.499);
        if (left != shown_left) shown_left = left, ui_con.dirty = 1;
    }
    if (ui_con.message[0] && t >= ui_con.message_until && ui_con.message_until > 0) {
        ui_con.message_until = 0;
        ui_con.dirty = 1;
    }
    return animate;
}

#define MAX_POLL (3 + 2 * 256 + 1)

/* Waits (at most a second; less when something animates or a message expires) for the terminal,
 * the fetch children and the jobs, and reads what they wrote. Returns -1 when poll failed. */
static int wait_and_read(int animate, double next_tick)
{
    struct pollfd fds[MAX_POLL];
    ui_job *owner[MAX_POLL];
    int stream[MAX_POLL];
    nfds_t n = 0;
    fds[n] = (struct pollfd){STDIN_FILENO, POLLIN, 0}, owner[n] = NULL, stream[n++] = -1;
    if (ui_con.fetch_fd >= 0) fds[n] = (struct pollfd){ui_con.fetch_fd, POLLIN, 0}, owner[n] = NULL, stream[n++] = -2;
    if (ui_con.status_fd >= 0) fds[n] = (struct pollfd){ui_con.status_fd, POLLIN, 0}, owner[n] = NULL, stream[n++] = -3;
    if (ui_con.drivers_fd >= 0) fds[n] = (struct pollfd){ui_con.drivers_fd, POLLIN, 0}, owner[n] = NULL, stream[n++] = -4;
    for (size_t i = 0; i < ui_con.n_jobs && n + 2 < MAX_POLL; i++) {
        ui_job *j = ui_con.jobs[i];
        if (j->out_fd >= 0) fds[n] = (struct pollfd){j->out_fd, POLLIN, 0}, owner[n] = j, stream[n++] = 0;
        if (j->err_fd >= 0) fds[n] = (struct pollfd){j->err_fd, POLLIN, 0}, owner[n] = j, stream[n++] = 1;
    }
    double wait = ui_con.fetch_pid > 0 ? 1000 : ui_fetch_next_due() - ui_now_ms();
    if (animate) wait = next_tick - ui_now_ms();
    if (ui_con.message_until > 0 && ui_con.message_until - ui_now_ms() < wait) wait = ui_con.message_until - ui_now_ms();
    if (wait < 0) wait = 0;
    if (wait > 1000) wait = 1000;
    int pr = poll(fds, n, (int)wait);
    if (pr < 0) return errno == EINTR ? 0 : -1;
    for (nfds_t i = 1; i < n; i++) {
        if (!fds[i].revents) continue;
        if (stream[i] == -2) ui_on_fetch_readable();
        else if (stream[i] == -3) ui_on_status_readable();
        else if (stream[i] == -4) ui_on_drivers_readable();
        else ui_on_job_readable(owner[i], stream[i]);
    }
    return 0;
}

/* After the loop: the terminal back, what keeps running said, the fetch children stopped. */
static void stop_console(void)
{
    restore_terminal();
    if (g_quit_signal) {
        /* jobs are in their own process group and keep running; say so */
        fprintf(stderr, "retirectl: console stopped by signal %d\n", (int)g_quit_signal);
    }
    size_t still = ui_running_jobs();
    if (still) fprintf(stderr, "retirectl: %zu job%s still running in the background; see `retirectl status USER`\n",
                       still, still == 1 ? " is" : "s are");
    if (ui_con.fetch_pid > 0) kill(ui_con.fetch_pid, SIGTERM), ui_reap_child(&ui_con.fetch_pid, "queue");
    if (ui_con.status_pid > 0) kill(ui_con.status_pid, SIGTERM), ui_reap_child(&ui_con.status_pid, "status");
    if (ui_con.drivers_pid > 0) kill(ui_con.drivers_pid, SIGTERM), ui_reap_child(&ui_con.drivers_pid, "drivers");
    ui_tlog("exit %.3f\n", ui_now_ms());
    if (ui_con.trace) fclose(ui_con.trace);
    ui_store_free(&ui_con.store);
    ui_store_free(&ui_con.next);
    ui_fetch_done();
}

int ui_run(const ui_options *o, char *err, size_t err_len)
{
    if (start_console(o, err, err_len) != 0) return -1;
    double next_tick = ui_now_ms();
    while (!ui_con.quit && !g_quit_signal) {
        /* keys first (also picks up KEY_RESIZE after SIGWINCH) */
        int ch, got = 0;
        while ((ch = getch()) != ERR && got < 256) {
            handle_key(ch);
            got++;
            if (ui_con.quit) break;
        }
        if (ui_con.quit) break;
        int animate = run_timers(ui_now_ms(), &next_tick);
        if (ui_con.dirty) draw();
        if (wait_and_read(animate, next_tick) != 0) break;
    }
    stop_console();
    return g_quit_signal ? 128 + (int)g_quit_signal : 0;
}
