/* The console's key table and what is generated from it (see keys.h). */
#include "ui/keys.h"

#include <curses.h>
#include <string.h>

#include "common/roff.h"
#include "common/strbuf.h"

#define CTRL(c) ((c) & 0x1f)
#define ESC_KEY 27

static const ui_key table[] = {
    {{'?', KEY_F(1)}, "?, F1", UI_VIEW_ALL, UA_HELP, 0, "show this help (Up/Down scroll it, any other key closes it)"},
    {{'q'}, "q", UI_VIEW_LIST, UA_QUIT, 0, "quit (asks first while jobs run)"},
    {{'q'}, "q", UI_VIEW_ALL & ~UI_VIEW_LIST, UA_BACK, 0, "close this view (back to the one before)"},
    {{'Q'}, "Q", UI_VIEW_ALL, UA_QUIT_ALL, 0, "quit from any view (asks first while jobs run)"},
    {{ESC_KEY, KEY_BACKSPACE}, "Esc, Backspace", UI_VIEW_ALL, UA_BACK,
     0, "back out: close the view, dialog or filter"},
    {{KEY_UP, 'k'}, "Up, k", UI_VIEW_ALL, UA_UP, 0, "move up"},
    {{KEY_DOWN, 'j'}, "Down, j", UI_VIEW_ALL, UA_DOWN, 0, "move down"},
    {{KEY_PPAGE, CTRL('b')}, "PgUp, Ctrl-B", UI_VIEW_ALL, UA_PAGE_UP, 0, "page up"},
    {{KEY_NPAGE, CTRL('f')}, "PgDn, Ctrl-F", UI_VIEW_ALL, UA_PAGE_DOWN, 0, "page down"},
    {{KEY_HOME, 'g'}, "Home, g", UI_VIEW_ALL, UA_HOME, 0, "go to the first line"},
    {{KEY_END, 'G'}, "End, G", UI_VIEW_ALL, UA_END, 0, "go to the last line"},
    {{'\t', KEY_RIGHT, 'l'}, "Tab, Right, l", UI_VIEW_LIST, UA_NEXT_TAB, 0, "next tab"},
    {{KEY_BTAB, KEY_LEFT, 'h'}, "Shift-Tab, Left, h", UI_VIEW_LIST, UA_PREV_TAB, 0, "previous tab"},
    {{'1'}, "1", UI_VIEW_LIST, UA_TAB1, 0, "tab Ready: PENDING or partly done, past cool-off"},
    {{'2'}, "2", UI_VIEW_LIST, UA_TAB2, 0, "tab Pending: still in the cool-off period"},
    {{'3'}, "3", UI_VIEW_LIST, UA_TAB3, 0, "tab Failed: ERRORED"},
    {{'4'}, "4", UI_VIEW_LIST, UA_TAB4, 0, "tab Stuck: in a working state"},
    {{'5'}, "5", UI_VIEW_LIST, UA_TAB5, 0, "tab Complete: COMPLETE or ABORTED, newest first"},
    {{'/'}, "/", UI_VIEW_LIST, UA_FILTER, 0, "filter the list by username (Enter keeps, Esc clears)"},
    {{'/'}, "/", UI_VIEW_LOG, UA_SEARCH, 0, "search the log (Enter finds, Esc clears)"},
    {{'n'}, "n", UI_VIEW_LOG | UI_VIEW_LIST, UA_NEXT_MATCH, 0, "next match of the filter or search (on to the next tab)"},
    {{'N'}, "N", UI_VIEW_LOG | UI_VIEW_LIST, UA_PREV_MATCH, 0, "previous match of the filter or search"},
    {{'o'}, "o", UI_VIEW_LIST, UA_SORT, 0, "sort by the next column (id, USERNAME, STATE, AGE, CHANGED)"},
    {{'O'}, "O", UI_VIEW_LIST, UA_SORT, 0, "reverse the sort order"},
    {{':'}, ":", UI_VIEW_ALL & ~UI_VIEW_LOG, UA_COMMAND, 0,
     "command line: status USER, retire USER, resume USER, history USER, goto ID, q (Tab completes)"},
    {{'f'}, "f", UI_VIEW_LOG, UA_FOLLOW, 0, "follow the log: new lines scroll in (End also follows)"},
    {{'s'}, "s", UI_VIEW_LOG, UA_SAVE, 0, "save the log to $XDG_STATE_HOME/retirectl/logs/"},
    {{'L'}, "L", UI_VIEW_LIST | UI_VIEW_DETAIL, UA_LOG, 0, "full-screen job log of the learner (follow, search, save)"},
    {{'\n', '\r', KEY_ENTER}, "Enter", UI_VIEW_LIST, UA_OPEN, 0, "open the learner's detail"},
    {{'\n', '\r', KEY_ENTER}, "Enter", UI_VIEW_DRIVERS, UA_OPEN, 0, "show or hide the driver's full load error"},
    {{'\n', '\r', KEY_ENTER}, "Enter", UI_VIEW_JOBS, UA_OPEN, 0, "open the job's learner"},
    {{'J'}, "J", UI_VIEW_ALL & ~UI_VIEW_LOG, UA_JOBS, 0,
     "jobs view: running, queued (with position), done and failed jobs of this session"},
    {{'M'}, "M", UI_VIEW_ALL & ~UI_VIEW_LOG, UA_MESSAGES, 0, "message history of this session, newest first"},
    {{'d'}, "d", UI_VIEW_LIST | UI_VIEW_DETAIL, UA_DRIVERS, 0,
     "drivers view: loaded drivers, source, methods, load errors"},
    {{KEY_F(5), CTRL('r')}, "F5, Ctrl-R", UI_VIEW_ALL, UA_REFRESH, 0, "refresh now (also every console.refresh_seconds)"},
    {{CTRL('l')}, "Ctrl-L", UI_VIEW_ALL, UA_REDRAW, 0, "redraw the screen"},
    {{' '}, "Space", UI_VIEW_LIST, UA_MARK, 1, "mark or unmark the learner (actions apply to all marked)"},
    {{'*'}, "*", UI_VIEW_LIST, UA_MARK_ALL, 1, "mark every learner shown, or unmark all"},
    {{'p'}, "p", UI_VIEW_LIST | UI_VIEW_DETAIL, UA_PLAN, 0,
     "dry-run preview: every step's plan and the request it would send"},
    {{'r'}, "r", UI_VIEW_LIST | UI_VIEW_DETAIL, UA_RETIRE, 1, "retire the learner (or the marked ones)"},
    {{'u'}, "u", UI_VIEW_LIST | UI_VIEW_DETAIL, UA_RESUME, 1,
     "resume an ERRORED or stuck learner (or the marked ones)"},
    {{'x'}, "x", UI_VIEW_DETAIL | UI_VIEW_DRIVERS, UA_RERUN, 1,
     "rerun the selected step, or the selected driver method, for the learner"},
    {{'c'}, "c", UI_VIEW_LIST | UI_VIEW_DETAIL | UI_VIEW_JOBS, UA_CANCEL, 1,
     "cancel the learner's running job (stops after the step in flight)"},
    {{'S'}, "S", UI_VIEW_LIST | UI_VIEW_DETAIL, UA_RESET, 1, "reset the learner's state (forced state update)"},
    {{'R'}, "R", UI_VIEW_JOBS, UA_RESTART_QUEUE, 1,
     "start the queue again after the circuit breaker stopped it (console.max_consecutive_failures)"},
};

const ui_key *ui_keys(size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}

ui_action ui_key_lookup(int code, unsigned view, int read_only)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (!(table[i].views & view)) continue;
        if (read_only && table[i].changes_state) continue;
        for (int k = 0; k < UI_KEY_MAX_CODES && table[i].codes[k]; k++)
            if (table[i].codes[k] == code) return table[i].action;
    }
    return UA_NONE;
}

const ui_key *ui_key_for(ui_action action)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].action == action) return &table[i];
    return NULL;
}

char *ui_keys_man_section(void)
{
    strbuf sb = STRBUF_INIT;
    sb_add(&sb, ".SH KEYS\n");
    sb_add(&sb, "Generated from the console's key table (src/ui/keys.c); the \\fB?\\fR screen shows the same.\n"
                "Keys marked (changes state) are hidden with \\fB\\-\\-read\\-only\\fR.\n");
    static const struct { unsigned view; const char *title; } views[] = {
        {UI_VIEW_LIST, "Learner list"}, {UI_VIEW_DETAIL, "Learner detail"}, {UI_VIEW_DRIVERS, "Drivers view"},
        {UI_VIEW_LOG, "Job log (full screen)"}, {UI_VIEW_JOBS, "Jobs view"}, {UI_VIEW_MESSAGES, "Message history"}};
    for (size_t v = 0; v < sizeof views / sizeof views[0]; v++) {
        sb_add(&sb, ".SS ");
        sb_add(&sb, views[v].title);
        sb_add(&sb, "\n");
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
            if (!(table[i].views & views[v].view)) continue;
            sb_add(&sb, ".TP\n.B ");
            roff_add(&sb, table[i].names, strlen(table[i].names));
            sb_add(&sb, "\n");
            roff_add(&sb, table[i].help, strlen(table[i].help));
            if (table[i].changes_state) sb_add(&sb, " (changes state)");
            sb_add(&sb, "\n");
        }
    }
    return sb_take(&sb);
}
