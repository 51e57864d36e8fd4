/* ui keys (prefix ui_key): the ONE key table of the console. It drives dispatch, the `?`
 * help screen and the KEYS section of the man page (docs/retirectl.1), which
 * `retirectl tui --print-keys-man` prints and a unit test compares. */
#ifndef RETIRECTL_UI_KEYS_H
#define RETIRECTL_UI_KEYS_H

#include <stddef.h>

/* Views a key works in (bit mask). */
enum {
    UI_VIEW_LIST = 1, UI_VIEW_DETAIL = 2, UI_VIEW_DRIVERS = 4, UI_VIEW_LOG = 8, UI_VIEW_JOBS = 16, UI_VIEW_MESSAGES = 32,
    UI_VIEW_ALL = 63
};

typedef enum ui_action {
    UA_NONE = 0,
    UA_QUIT, UA_HELP, UA_BACK, UA_REDRAW, UA_REFRESH,
    UA_UP, UA_DOWN, UA_PAGE_UP, UA_PAGE_DOWN, UA_HOME, UA_END,
    UA_NEXT_TAB, UA_PREV_TAB, UA_TAB1, UA_TAB2, UA_TAB3, UA_TAB4, UA_TAB5,
    UA_FILTER, UA_OPEN, UA_DRIVERS, UA_MARK, UA_MARK_ALL,
    UA_PLAN, UA_RETIRE, UA_RESUME, UA_RERUN, UA_CANCEL, UA_RESET,
    UA_QUIT_ALL, UA_LOG, UA_SEARCH, UA_NEXT_MATCH, UA_PREV_MATCH, UA_FOLLOW, UA_SAVE, UA_JOBS, UA_MESSAGES,
    UA_COMMAND, UA_SORT, UA_RESTART_QUEUE
} ui_action;

#define UI_KEY_MAX_CODES 4

typedef struct ui_key {
    int codes[UI_KEY_MAX_CODES];   /* curses key codes / characters; 0 ends the list */
    const char *names;             /* how help and the man page spell them, e.g. "Down, j" */
    unsigned views;                /* UI_VIEW_* mask */
    ui_action action;
    int changes_state;             /* 1: changes learner state (hidden and disabled with --read-only) */
    const char *help;              /* one line */
} ui_key;

/* The table (static storage) and its length. */
const ui_key *ui_keys(size_t *n);
/* The action bound to code in view, UA_NONE if none; read_only disables state-changing keys. */
ui_action ui_key_lookup(int code, unsigned view, int read_only);
/* The table entry for an action (first), or NULL. */
const ui_key *ui_key_for(ui_action action);
/* The man page KEYS section (roff) generated from the table; malloc'd, caller frees. */
char *ui_keys_man_section(void);

#endif
