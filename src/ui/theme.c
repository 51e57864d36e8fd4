/* Theme files and the compiled-in themes (see theme.h). */
#include "ui/theme.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/themes_builtin.h" /* generated: ui_builtin_default_theme, ui_builtin_mono_theme */

static const char *const role_names[UR_COUNT] = {
    "normal", "header", "tab", "tab_active", "selection", "marked", "queued", "pending", "running",
    "retrying", "done", "skipped", "failed", "dry_run", "warning", "production", "muted", "status",
    "busy", "dialog"};

const char *ui_theme_role_name(ui_role r)
{
    return (r >= 0 && r < UR_COUNT) ? role_names[r] : NULL;
}

/* Parses a colour word; returns 0 and sets *out, or -1. */
static int parse_colour(const char *w, short *out)
{
    static const char *const names[] = {"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"};
    if (strcmp(w, "default") == 0 || strcmp(w, "-1") == 0) return *out = -1, 0;
    int bright = 0;
    if (strncmp(w, "bright-", 7) == 0) bright = 8, w += 7;
    for (int i = 0; i < 8; i++)
        if (strcmp(w, names[i]) == 0) return *out = (short)(i + bright), 0;
    if (bright) return -1;
    char *end;
    errno = 0;
    long v = strtol(w, &end, 10);
    if (*w && !*end && !errno && v >= 0 && v <= 255) return *out = (short)v, 0;
    return -1;
}

static int parse_attr(const char *w, unsigned *attrs)
{
    static const struct { const char *n; unsigned a; } tab[] = {
        {"bold", UI_ATTR_BOLD}, {"dim", UI_ATTR_DIM}, {"underline", UI_ATTR_UNDERLINE},
        {"reverse", UI_ATTR_REVERSE}, {"standout", UI_ATTR_STANDOUT}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(w, tab[i].n) == 0) return *attrs |= tab[i].a, 0;
    return -1;
}

int ui_theme_parse(ui_theme *t, const char *text, const char *file, char *err, size_t err_len)
{
    int lineno = 0;
    const char *p = text;
    while (p && *p) {
        lineno++;
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        char line[512];
        if (n >= sizeof line) {
            snprintf(err, err_len, "%s:%d: line too long (at most %zu characters)", file, lineno, sizeof line - 1);
            return -1;
        }
        memcpy(line, p, n);
        line[n] = '\0';
        p = eol ? eol + 1 : NULL;
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *eq = strchr(line, '=');
        char *s = line;
        while (isspace((unsigned char)*s)) s++;
        if (!*s) continue;
        if (!eq) {
            snprintf(err, err_len, "%s:%d: expected 'role = foreground background [attributes]'", file, lineno);
            return -1;
        }
        *eq = '\0';
        char *e = eq;
        while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
        int role = -1;
        for (int r = 0; r < UR_COUNT; r++)
            if (strcmp(s, role_names[r]) == 0) role = r;
        if (role < 0) {
            snprintf(err, err_len, "%s:%d: unknown role '%.60s' (roles: normal, header, selection, running, "
                     "done, failed, dry_run, warning, ... see themes/default.theme)", file, lineno, s);
            return -1;
        }
        ui_style st = {-1, -1, 0};
        int word = 0;
        char *save = NULL;
        for (char *w = strtok_r(eq + 1, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save), word++) {
            int bad = word == 0 ? parse_colour(w, &st.fg) : word == 1 ? parse_colour(w, &st.bg) : parse_attr(w, &st.attrs);
            if (bad) {
                snprintf(err, err_len, "%s:%d: role %s: '%.40s' is not a %s", file, lineno, role_names[role], w,
                         word < 2 ? "colour (default, red, bright-blue, 0-255, ...)"
                                  : "attribute (bold, dim, underline, reverse, standout)");
                return -1;
            }
        }
        if (word < 2) {
            snprintf(err, err_len, "%s:%d: role %s needs a foreground and a background colour", file, lineno,
                     role_names[role]);
            return -1;
        }
        t->roles[role] = st;
    }
    return 0;
}

/* Reads a whole small file; malloc'd or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *buf = xmalloc(65537);
    size_t n = buf ? fread(buf, 1, 65536, f) : 0;
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    return buf;
}

int ui_theme_load(ui_theme *t, const char *name, const char *themes_dir, char *err, size_t err_len)
{
    memset(t, 0, sizeof *t);
    for (int r = 0; r < UR_COUNT; r++) t->roles[r] = (ui_style){-1, -1, 0};
    if (ui_theme_parse(t, ui_builtin_default_theme, "default.theme (built in)", err, err_len)) return -1;
    if (!name || !*name || strcmp(name, "default") == 0) {
        snprintf(t->name, sizeof t->name, "default");
        return 0;
    }
    if (strcmp(name, "mono") == 0) {
        snprintf(t->name, sizeof t->name, "mono");
        return ui_theme_parse(t, ui_builtin_mono_theme, "mono.theme (built in)", err, err_len);
    }
    char candidates[2][1024];
    int nc = 0;
    if (strchr(name, '/')) {
        snprintf(candidates[nc++], sizeof candidates[0], "%s", name);
    } else {
        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        if (xdg && *xdg) snprintf(candidates[nc++], sizeof candidates[0], "%s/retirectl/themes/%s.theme", xdg, name);
        else if (home && *home) snprintf(candidates[nc++], sizeof candidates[0], "%s/.config/retirectl/themes/%s.theme", home, name);
        if (themes_dir && *themes_dir) snprintf(candidates[nc++], sizeof candidates[0], "%s/%s.theme", themes_dir, name);
    }
    for (int i = 0; i < nc; i++) {
        char *text = slurp(candidates[i]);
        if (!text) continue;
        snprintf(t->name, sizeof t->name, "%s", name);
        int rc = ui_theme_parse(t, text, candidates[i], err, err_len);
        free(text);
        return rc;
    }
    snprintf(err, err_len, "theme '%s' not found (looked for %s%s%s); use default, light, mono or a path to a "
             ".theme file", name, nc ? candidates[0] : "no themes folder: HOME is unset and the install's is unknown",
             nc > 1 ? " and " : "", nc > 1 ? candidates[1] : "");
    return -1;
}
