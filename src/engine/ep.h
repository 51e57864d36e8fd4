/* ep (prefix ep_): parser for `retirement_driver` entry-point files, in setup.cfg style
 * ([options.entry_points] with an indented `retirement_driver =` block) and entry_points.txt
 * style ([retirement_driver] section). Lines are `NAME = relative/file.so:symbol`; comments
 * (# ;), blank lines and continuation lines are allowed; paths resolve relative to the file. */
#ifndef RETIRECTL_EP_H
#define RETIRECTL_EP_H

#include <stddef.h>

typedef struct ep_entry {
    char *name;    /* driver name as the pipeline uses it, e.g. "BRAZE" */
    char *file;    /* shared object path, resolved against the entry-point file's folder */
    char *symbol;  /* exported rd_driver symbol */
    char *source;  /* entry-point file it came from */
    int line;      /* 1-based line in source */
} ep_entry;

typedef struct ep_problem {
    char *source;  /* file */
    int line;      /* 0 when about the whole file */
    char *name;    /* driver name concerned, or NULL when the problem is not tied to one */
    char *message; /* full sentence naming file and line and saying what to do */
} ep_problem;

typedef struct ep_list {
    ep_entry *entries;
    size_t n_entries;
    ep_problem *problems;
    size_t n_problems;
} ep_list;

/* Parses one file and appends its entries and problems to list (a missing or unsafe file —
 * group/world-writable or owned by another user — is a problem, not a crash). Returns the
 * number of problems added. */
int ep_parse_file(ep_list *list, const char *path);
/* Same for text in memory; `path` names it and anchors relative paths. */
int ep_parse_text(ep_list *list, const char *path, const char *text);
void ep_list_free(ep_list *list);

/* Checks that a file retirectl will trust (entry-point file or plugin .so) is a regular file,
 * not writable by group or others, and owned by root or the current user. Returns 0, or -1
 * with a sentence in err naming the file (`what` says which kind, e.g. "plugin") and the fix. */
int ep_check_file_safe(const char *path, const char *what, char *err, size_t err_len);

/* Opens a plugin for loading without a race (docs/writing-a-driver.md, "Plugin trust"): every
 * folder on the path as given and on the path with symlinks resolved must be owned by root or
 * the current user and not writable by group or others (a sticky folder such as /tmp is accepted
 * only above the plugin's own folder, when the next entry is a real folder owned by root or the
 * current user, which others cannot rename or replace); the final target is opened once
 * (O_NOFOLLOW) and checked with ep_check_file_safe's rules on that open file. Load the returned
 * descriptor's /proc/self/fd/N, so the file checked is the file loaded. Returns the fd
 * (O_CLOEXEC; the caller closes it), or -1 with a sentence in err. */
int ep_open_trusted(const char *path, const char *what, char *err, size_t err_len);

#endif
