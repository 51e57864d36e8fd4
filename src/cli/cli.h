/* The command line: global options and the command table (each command declares its cli_cmd_entry in its own file). */
#ifndef RETIRECTL_CLI_H
#define RETIRECTL_CLI_H

#include <stddef.h>
#include <stdio.h>

/* Global options parsed by main.c before the command name. */
typedef struct cli_globals {
    const char *config_path;        /* --config FILE, or NULL (see cfg_default_path) */
    const char *driver_paths[16];   /* --driver-path FILE (repeatable), NULL-terminated */
    size_t n_driver_paths;
    int json;                       /* --json */
    int no_color;                   /* --no-color or NO_COLOR set */
    const char *theme;              /* --theme NAME */
    int read_only;                  /* --read-only (console) */
    const char *operator_name;      /* --operator NAME (audit log), or NULL = login name */
    const char *argv0;              /* path this program was started as */
} cli_globals;

typedef struct cli_cmd_entry cli_cmd_entry;
/* The command table (main.c): each command's entry (cli/cmd_entry.h), n set to its length.
 * Help, dispatch, shell completion and the man page all read it. */
const cli_cmd_entry *const *cli_commands(size_t *n);
/* Prints `retirectl --help` (global options and the command table) to out. */
void cli_usage(FILE *out);

#endif
