/* ui (prefix ui_): the ncurses console. Curses is used only under src/ui and only on the
 * thread that calls ui_run. The console renders learner lists fetched by forked children
 * (fetch.h) and JSON-lines events of the `retirectl ... --events` jobs it starts (job.h);
 * it never talks HTTP itself and never blocks on the network. */
#ifndef RETIRECTL_UI_H
#define RETIRECTL_UI_H

#include <stddef.h>

#include "engine/config.h"

typedef struct ui_options {
    const cfg *config;                /* loaded and validated config (borrowed) */
    const char *config_path;          /* passed to the jobs as --config */
    const char *const *driver_paths;  /* --driver-path files, NULL-terminated, or NULL */
    const char *exe;                  /* retirectl binary for jobs (absolute) */
    const char *theme;                /* --theme, or NULL: config console.theme, else default */
    const char *operator_name;        /* --operator, or NULL */
    int read_only;                    /* hide every action that changes state */
    int no_color;                     /* NO_COLOR / --no-color: the mono theme */
} ui_options;

/* Runs the console until the operator quits. Returns 0, or -1 with a sentence in err (e.g. not
 * a terminal, bad theme). The terminal is restored on every path, crashes included. */
int ui_run(const ui_options *o, char *err, size_t err_len);

#endif
