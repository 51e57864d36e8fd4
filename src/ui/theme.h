/* ui theme (prefix ui_theme_): semantic roles (queued, running, done, failed, dry-run,
 * warning, selection, ...) mapped to colours and attributes, read from themes/NAME.theme.
 * Parsing is pure (no curses); the console turns a ui_theme into colour pairs. The default
 * and mono themes are compiled in (generated from themes/default.theme and mono.theme). */
#ifndef RETIRECTL_UI_THEME_H
#define RETIRECTL_UI_THEME_H

#include <stddef.h>

typedef enum ui_role {
    UR_NORMAL = 0, UR_HEADER, UR_TAB, UR_TAB_ACTIVE, UR_SELECTION, UR_MARKED, UR_QUEUED, UR_PENDING,
    UR_RUNNING, UR_RETRYING, UR_DONE, UR_SKIPPED, UR_FAILED, UR_DRY_RUN, UR_WARNING, UR_PRODUCTION,
    UR_MUTED, UR_STATUS, UR_BUSY, UR_DIALOG, UR_COUNT
} ui_role;

enum { UI_ATTR_BOLD = 1, UI_ATTR_DIM = 2, UI_ATTR_UNDERLINE = 4, UI_ATTR_REVERSE = 8, UI_ATTR_STANDOUT = 16 };

typedef struct ui_style {
    short fg, bg;     /* colour numbers 0..255, -1 = the terminal's default (background kept) */
    unsigned attrs;   /* UI_ATTR_* */
} ui_style;

typedef struct ui_theme {
    char name[64];
    ui_style roles[UR_COUNT];
} ui_theme;

/* The role's name as written in theme files ("dry_run"), or NULL. */
const char *ui_theme_role_name(ui_role r);
/* Parses theme text over *t (roles not mentioned keep their value). Returns 0, or -1 with
 * "FILE:LINE: ..." in err for an unknown role, colour or attribute. */
int ui_theme_parse(ui_theme *t, const char *text, const char *file, char *err, size_t err_len);
/* Fills t with a theme by name or path: "default" and "mono" are compiled in; other names are
 * looked up as $XDG_CONFIG_HOME/retirectl/themes/NAME.theme, then in themes_dir (the shipped
 * themes, paths_theme_dir(); may be NULL). Returns 0 or -1 with err. */
int ui_theme_load(ui_theme *t, const char *name, const char *themes_dir, char *err, size_t err_len);

#endif
