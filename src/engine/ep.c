/* ep: parser for `retirement_driver` entry-point files (see ep.h). */
#include "engine/ep.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "common/xalloc.h"

#define EP_MAX_FILE_BYTES (1024 * 1024)

/* Section kinds the parser cares about. */
enum ep_mode { MODE_NONE, MODE_SETUP_CFG, MODE_ENTRY_POINTS_TXT, MODE_OTHER };

/* Appends a problem (message built printf-style) to list. */
static void add_problem(ep_list *list, const char *source, int line, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void add_problem(ep_list *list, const char *source, int line, const char *name, const char *fmt, ...)
{
    ep_problem *p = xrealloc(list->problems, (list->n_problems + 1) * sizeof *p);
    list->problems = p;
    strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    p[list->n_problems].source = xstrdup(source);
    p[list->n_problems].line = line;
    p[list->n_problems].name = name ? xstrdup(name) : NULL;
    p[list->n_problems].message = sb_take(&sb);
    list->n_problems++;
}

/* Returns the folder part of path ("." when there is none), malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return xstrdup(".");
    if (slash == path) return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

/* Resolves file relative to the folder of the entry-point file; absolute paths stay. */
static char *resolve_path(const char *ep_path, const char *file)
{
    if (file[0] == '/') return xstrdup(file);
    char *dir = dir_of(ep_path);
    strbuf sb = STRBUF_INIT;
    if (strcmp(dir, ".") == 0)
        sb_add(&sb, file);
    else
        sb_addf(&sb, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", file);
    free(dir);
    return sb_take(&sb);
}

/* Non-zero when name is usable as a pipeline driver name: letters, digits, '_', '-', '.'. */
static int valid_name(const char *name)
{
    if (!*name) return 0;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.') return 0;
    return 1;
}

/* Non-zero when sym is a C identifier (what dlsym can find for an exported descriptor). */
static int valid_symbol(const char *sym)
{
    if (!*sym || isdigit((unsigned char)*sym)) return 0;
    for (const char *p = sym; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_') return 0;
    return 1;
}

/* Trims leading and trailing whitespace in place; returns the start. */
static char *trim(char *s)
{
    while (*s && isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

/* Cuts an inline comment: ' #' or ' ;' (a comment marker preceded by whitespace). */
static void cut_inline_comment(char *s)
{
    for (char *p = s; *p; p++) {
        if ((*p == '#' || *p == ';') && p > s && isspace((unsigned char)p[-1])) {
            *p = '\0';
            return;
        }
    }
}

/* Looks up an entry by name in the list; NULL when absent. */
static const ep_entry *find_entry(const ep_list *list, const char *name)
{
    for (size_t i = 0; i < list->n_entries; i++)
        if (strcmp(list->entries[i].name, name) == 0) return &list->entries[i];
    return NULL;
}

/* Parses the value "file:symbol" of entry `name` at path:line and adds the entry (or a problem). */
static void add_entry(ep_list *list, const char *path, int line, const char *name, char *value)
{
    value = trim(value);
    if (!valid_name(name)) {
        add_problem(list, path, line, *name ? name : NULL,
                    "%s:%d: '%s' is not a valid driver name (use letters, digits, '_', '-' or '.', e.g. "
                    "WEBHOOK = example/example.so:retirectl_driver_webhook)",
                    path, line, name);
        return;
    }
    char *colon = strrchr(value, ':');
    if (!*value) {
        add_problem(list, path, line, name,
                    "%s:%d: driver %s has no value; write it as %s = relative/path/driver.so:exported_symbol",
                    path, line, name, name);
        return;
    }
    if (!colon) {
        add_problem(list, path, line, name,
                    "%s:%d: driver %s: '%s' has no ':symbol'; write it as %s = %s:exported_symbol "
                    "(the rd_driver descriptor the plugin exports)",
                    path, line, name, value, name, value);
        return;
    }
    *colon = '\0';
    char *file = trim(value);
    char *symbol = trim(colon + 1);
    if (!*file) {
        add_problem(list, path, line, name,
                    "%s:%d: driver %s names no shared object before ':%s'; write it as %s = path/driver.so:%s",
                    path, line, name, symbol, name, symbol);
        return;
    }
    if (!valid_symbol(symbol)) {
        add_problem(list, path, line, name,
                    "%s:%d: driver %s: '%s' is not a C symbol name; after ':' put the name of the exported "
                    "rd_driver descriptor (e.g. retirectl_driver_webhook)",
                    path, line, name, symbol);
        return;
    }
    const ep_entry *dup = find_entry(list, name);
    if (dup) {
        add_problem(list, path, line, name,
                    "driver %s is defined twice: %s:%d and %s:%d; remove or rename one of them "
                    "(a later entry-point file may not silently replace a driver)",
                    name, dup->source, dup->line, path, line);
        return;
    }
    ep_entry *e = xrealloc(list->entries, (list->n_entries + 1) * sizeof *e);
    list->entries = e;
    e[list->n_entries].name = xstrdup(name);
    e[list->n_entries].file = resolve_path(path, file);
    e[list->n_entries].symbol = xstrdup(symbol);
    e[list->n_entries].source = xstrdup(path);
    e[list->n_entries].line = line;
    list->n_entries++;
}

/* Splits "NAME = value" at the first '='; returns 0 and sets *name / *value (in place), or -1. */
static int split_entry(char *text, char **name, char **value)
{
    char *eq = strchr(text, '=');
    if (!eq) return -1;
    *eq = '\0';
    *name = trim(text);
    *value = eq + 1;
    return 0;
}

/* Width of the leading whitespace of a line (tabs count as one column, like configparser). */
static size_t indent_of(const char *s)
{
    size_t n = 0;
    while (s[n] == ' ' || s[n] == '\t') n++;
    return n;
}

/* The state of one file's parse, line by line. */
typedef struct {
    ep_list *list;
    const char *path;
    enum ep_mode mode;
    int in_block;         /* setup.cfg: inside the `retirement_driver =` value */
    size_t key_indent;    /* indentation of the key line owning the current value */
    char *pending_name;   /* an entry whose value continues on the next, more indented line */
    int pending_line;
    size_t pending_indent;
    int line_no;
    int saw_group;
} ep_parser;

/* Reports the pending `NAME =` that got no value and forgets it. */
static void flush_pending(ep_parser *ps)
{
    if (!ps->pending_name) return;
    add_problem(ps->list, ps->path, ps->pending_line, ps->pending_name,
                "%s:%d: driver %s has no value; write it as %s = relative/path/driver.so:exported_symbol",
                ps->path, ps->pending_line, ps->pending_name, ps->pending_name);
    free(ps->pending_name);
    ps->pending_name = NULL;
}

/* A section header line ([options.entry_points], [retirement_driver] or another). */
static void section_header(ep_parser *ps, char *body)
{
    size_t bl = strlen(body);
    ps->in_block = 0;
    if (body[bl - 1] != ']') {
        add_problem(ps->list, ps->path, ps->line_no, NULL,
                    "%s:%d: section header '%s' has no closing ']'; write it as [options.entry_points] "
                    "or [retirement_driver]",
                    ps->path, ps->line_no, body);
        ps->mode = MODE_OTHER;
        return;
    }
    body[bl - 1] = '\0';
    char *sec = trim(body + 1);
    if (strcmp(sec, "options.entry_points") == 0) {
        ps->mode = MODE_SETUP_CFG;
    } else if (strcmp(sec, "retirement_driver") == 0) {
        ps->mode = MODE_ENTRY_POINTS_TXT;
        ps->saw_group = 1;
    } else {
        ps->mode = MODE_OTHER;
    }
}

/* A `NAME = file.so:symbol` line of the retirement_driver group (in_setup_cfg: an indented line
 * of setup.cfg's value); `NAME =` alone waits for a continuation line. */
static void driver_line(ep_parser *ps, size_t ind, char *body, int in_setup_cfg)
{
    char *name, *value;
    if (split_entry(body, &name, &value) != 0) {
        add_problem(ps->list, ps->path, ps->line_no, NULL, "%s:%d: '%s' is not NAME = file.so:symbol%s", ps->path,
                    ps->line_no, body,
                    in_setup_cfg ? " (an entry of the retirement_driver group needs a name, '=', the shared object "
                                   "and ':symbol')"
                                 : "");
        return;
    }
    if (!*trim(value)) {
        ps->pending_name = xstrdup(name);
        ps->pending_line = ps->line_no;
        ps->pending_indent = ind;
        return;
    }
    add_entry(ps->list, ps->path, ps->line_no, name, value);
}

/* A key line of [options.entry_points] (`group = ...` or `group: ...`): an entry-point group,
 * possibly `retirement_driver = NAME = file:sym` on one line. */
static void setup_cfg_key(ep_parser *ps, size_t ind, char *body)
{
    char *name, *value;
    char *eq = strchr(body, '=');
    char *colon = strchr(body, ':');
    if (colon && (!eq || colon < eq)) { /* `group: value` (configparser allows ':') */
        *colon = '\0';
        name = trim(body);
        value = colon + 1;
    } else if (!eq) {
        add_problem(ps->list, ps->path, ps->line_no, NULL,
                    "%s:%d: '%s' is not 'group = ...'; in [options.entry_points] write "
                    "'retirement_driver =' followed by indented NAME = file.so:symbol lines",
                    ps->path, ps->line_no, body);
        ps->in_block = 0;
        return;
    } else {
        split_entry(body, &name, &value);
    }
    ps->in_block = strcmp(name, "retirement_driver") == 0;
    ps->key_indent = ind;
    if (!ps->in_block) return;
    ps->saw_group = 1;
    value = trim(value);
    if (!*value) return;
    char *n2, *v2;
    if (split_entry(value, &n2, &v2) == 0)
        add_entry(ps->list, ps->path, ps->line_no, n2, v2);
    else
        add_problem(ps->list, ps->path, ps->line_no, NULL, "%s:%d: '%s' is not NAME = file.so:symbol", ps->path,
                    ps->line_no, value);
}

/* One line of content (not blank, not a comment), indented ind, by the section it is in. */
static void content_line(ep_parser *ps, size_t ind, char *body)
{
    /* a continuation line completing `NAME =` */
    if (ps->pending_name) {
        if (ind > ps->pending_indent && !strchr(body, '=')) {
            add_entry(ps->list, ps->path, ps->pending_line, ps->pending_name, body);
            free(ps->pending_name);
            ps->pending_name = NULL;
            return;
        }
        flush_pending(ps);
    }
    if (ind == 0 && body[0] == '[') {
        section_header(ps, body);
        return;
    }
    switch (ps->mode) {
    case MODE_NONE:
        add_problem(ps->list, ps->path, ps->line_no, NULL,
                    "%s:%d: '%s' comes before any section; start the file with [options.entry_points] "
                    "(setup.cfg style) or [retirement_driver] (entry_points.txt style)",
                    ps->path, ps->line_no, body);
        ps->mode = MODE_OTHER; /* one problem is enough for a headerless file */
        break;
    case MODE_OTHER:
        break;
    case MODE_SETUP_CFG:
        if (ind == 0)
            setup_cfg_key(ps, ind, body);
        else if (ps->in_block && ind > ps->key_indent)
            driver_line(ps, ind, body, 1);
        break;
    case MODE_ENTRY_POINTS_TXT:
        if (ind > 0) {
            add_problem(ps->list, ps->path, ps->line_no, NULL,
                        "%s:%d: indented line '%s' continues nothing; in [retirement_driver] each line is "
                        "NAME = file.so:symbol starting in the first column",
                        ps->path, ps->line_no, body);
            break;
        }
        driver_line(ps, ind, body, 0);
        break;
    }
}

int ep_parse_text(ep_list *list, const char *path, const char *text)
{
    size_t before = list->n_problems;
    ep_parser ps = {.list = list, .path = path, .mode = MODE_NONE};
    const char *p = text ? text : "";
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *raw = xstrndup(p, len);
        p += len + (nl ? 1 : 0);
        ps.line_no++;
        size_t rl = strlen(raw);
        while (rl && (raw[rl - 1] == '\r' || raw[rl - 1] == ' ' || raw[rl - 1] == '\t')) raw[--rl] = '\0';
        size_t ind = indent_of(raw);
        char *body = raw + ind;
        if (*body && *body != '#' && *body != ';') { /* not a blank line or full-line comment */
            cut_inline_comment(body);
            body = trim(body);
            if (*body) content_line(&ps, ind, body);
        }
        free(raw);
    }
    flush_pending(&ps);
    if (!ps.saw_group && list->n_problems == before) {
        add_problem(list, path, 0, NULL,
                    "%s: no retirement_driver group found; add [options.entry_points] with "
                    "'retirement_driver =' or a [retirement_driver] section",
                    path);
    }
    return (int)(list->n_problems - before);
}

/* ep_check_file_safe's rules on a file's status (path names it in err). */
static int stat_safe(const struct stat *st, const char *path, const char *what, char *err, size_t err_len)
{
    if (!S_ISREG(st->st_mode)) {
        snprintf(err, err_len, "%s %s is not a regular file; point to the file itself", what, path);
        return -1;
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(err, err_len,
                 "%s %s is writable by %s (mode %04o), so others could choose the code retirectl runs; "
                 "run: chmod go-w %s",
                 what, path, (st->st_mode & S_IWOTH) ? "everyone" : "its group", (unsigned)(st->st_mode & 07777),
                 path);
        return -1;
    }
    if (st->st_uid != 0 && st->st_uid != geteuid()) {
        snprintf(err, err_len,
                 "%s %s is owned by another user (uid %u; expected root or uid %u), who could change the code "
                 "retirectl runs; run: chown root %s (or your own user)",
                 what, path, (unsigned)st->st_uid, (unsigned)geteuid(), path);
        return -1;
    }
    return 0;
}

int ep_check_file_safe(const char *path, const char *what, char *err, size_t err_len)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, err_len, "%s %s cannot be read: %s; check the path", what, path, strerror(errno));
        return -1;
    }
    return stat_safe(&st, path, what, err, err_len);
}

/* Owner root or the current user. */
static int owner_trusted(uid_t uid)
{
    return uid == 0 || uid == geteuid();
}

/* Checks every folder above path (absolute), from "/" to the file's own folder. 0 or -1. */
static int folders_trusted(const char *path, const char *what, const char *plugin, char *err, size_t err_len)
{
    size_t len = strlen(path);
    const char *last = strrchr(path, '/');
    size_t own_len = last && last != path ? (size_t)(last - path) : 1; /* the file's own folder */
    char dir[PATH_MAX], next[PATH_MAX];
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && path[i] != '/') continue;
        size_t dl = i == 0 ? 1 : i;
        if (dl >= sizeof dir || (i > 0 && dl > own_len)) break;
        memcpy(dir, path, dl);
        dir[dl] = '\0';
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            snprintf(err, err_len, "%s %s: folder %s cannot be checked (%s)", what, plugin, dir,
                     errno ? strerror(errno) : "not a folder");
            return -1;
        }
        if (!owner_trusted(st.st_uid)) {
            snprintf(err, err_len,
                     "%s %s: folder %s is owned by another user (uid %u), who could replace the plugin; keep plugins "
                     "in folders owned by root or by you",
                     what, plugin, dir, (unsigned)st.st_uid);
            return -1;
        }
        if (!(st.st_mode & (S_IWGRP | S_IWOTH))) continue;
        int own = dl == own_len;
        if ((st.st_mode & S_ISVTX) && !own) {
            /* sticky: others cannot rename or replace an entry they do not own */
            const char *end = strchr(path + dl + 1, '/');
            size_t nl = end ? (size_t)(end - path) : len;
            struct stat nst;
            if (nl < sizeof next) {
                memcpy(next, path, nl);
                next[nl] = '\0';
                if (lstat(next, &nst) == 0 && S_ISDIR(nst.st_mode) && owner_trusted(nst.st_uid)) continue;
            }
        }
        snprintf(err, err_len,
                 "%s %s: folder %s is writable by %s (mode %04o), so others could replace the plugin before it is "
                 "loaded; move the plugin to a folder only root or you can write, or run: chmod go-w %s",
                 what, plugin, dir, (st.st_mode & S_IWOTH) ? "everyone" : "its group",
                 (unsigned)(st.st_mode & 07777), dir);
        return -1;
    }
    return 0;
}

int ep_open_trusted(const char *path, const char *what, char *err, size_t err_len)
{
    char abs[PATH_MAX], real[PATH_MAX], cwd[PATH_MAX] = "";
    if (path[0] != '/' && !getcwd(cwd, sizeof cwd)) cwd[0] = '\0';
    int n = snprintf(abs, sizeof abs, "%s%s%s", cwd, *cwd ? "/" : "", path);
    if (n < 0 || (size_t)n >= sizeof abs) {
        snprintf(err, err_len, "%s %s: the path is too long", what, path);
        return -1;
    }
    if (folders_trusted(abs, what, path, err, err_len)) return -1;
    if (!realpath(abs, real)) {
        snprintf(err, err_len, "%s %s cannot be read: %s; check the path", what, path, strerror(errno));
        return -1;
    }
    if (strcmp(real, abs) && folders_trusted(real, what, path, err, err_len)) return -1;
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(err, err_len, "%s %s (%s) cannot be opened: %s", what, path, real, strerror(errno));
        return -1;
    }
    /* the same rules as for the path, checked on the file that is open (and will be loaded) */
    struct stat st;
    if (fstat(fd, &st) != 0 || stat_safe(&st, path, what, err, err_len)) {
        close(fd);
        return -1;
    }
    return fd;
}

int ep_parse_file(ep_list *list, const char *path)
{
    size_t before = list->n_problems;
    char err[1024];
    struct stat st;
    if (stat(path, &st) != 0) {
        add_problem(list, path, 0, NULL,
                    "entry-point file %s cannot be read: %s; fix the path given in driver_entry_points, "
                    "--driver-path or RETIRECTL_DRIVER_PATH",
                    path, strerror(errno));
        return (int)(list->n_problems - before);
    }
    int unsafe = ep_check_file_safe(path, "entry-point file", err, sizeof err) != 0;
    if (unsafe && !S_ISREG(st.st_mode)) {
        add_problem(list, path, 0, NULL, "%s", err);
        return (int)(list->n_problems - before);
    }
    if (st.st_size > EP_MAX_FILE_BYTES) {
        add_problem(list, path, 0, NULL, "entry-point file %s is larger than %d bytes; is it the right file?",
                    path, EP_MAX_FILE_BYTES);
        return (int)(list->n_problems - before);
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        add_problem(list, path, 0, NULL, "entry-point file %s cannot be opened: %s; check its permissions", path,
                    strerror(errno));
        return (int)(list->n_problems - before);
    }
    char *text = xmalloc((size_t)st.st_size + 1);
    size_t n = fread(text, 1, (size_t)st.st_size, f);
    fclose(f);
    text[n] = '\0';
    if (memchr(text, '\0', n)) {
        add_problem(list, path, 0, NULL, "entry-point file %s contains NUL bytes; it is not a text file", path);
        free(text);
        return (int)(list->n_problems - before);
    }
    if (!unsafe) {
        ep_parse_text(list, path, text);
    } else {
        /* parse into a scratch list so every driver it names carries the safety problem */
        ep_list tmp = {0};
        ep_parse_text(&tmp, path, text);
        add_problem(list, path, 0, NULL, "%s", err);
        for (size_t i = 0; i < tmp.n_entries; i++)
            add_problem(list, tmp.entries[i].source, tmp.entries[i].line, tmp.entries[i].name,
                        "driver %s (%s:%d) is not loaded: %s", tmp.entries[i].name, tmp.entries[i].source,
                        tmp.entries[i].line, err);
        ep_list_free(&tmp);
    }
    free(text);
    return (int)(list->n_problems - before);
}

void ep_list_free(ep_list *list)
{
    if (!list) return;
    for (size_t i = 0; i < list->n_entries; i++) {
        free(list->entries[i].name);
        free(list->entries[i].file);
        free(list->entries[i].symbol);
        free(list->entries[i].source);
    }
    for (size_t i = 0; i < list->n_problems; i++) {
        free(list->problems[i].source);
        free(list->problems[i].name);
        free(list->problems[i].message);
    }
    free(list->entries);
    free(list->problems);
    memset(list, 0, sizeof *list);
}
