/* completion (prefix completion_): bash and zsh completion scripts written from the command table
 * (main.c: each command's cli_cmd_entry, read through cmdspec.h). Commands, options and fixed choices are
 * written into the script; DRIVER.METHOD names and theme names are asked of retirectl at each
 * <Tab> (`retirectl [--config F] completion --list methods|themes`), so installed plugins and
 * the config's extra_services show up without regenerating anything. */
#ifndef RETIRECTL_CLI_COMPLETION_H
#define RETIRECTL_CLI_COMPLETION_H

#include <stdio.h>

#include "cli/cmdspec.h"

#define COMPLETION_MAX_COMMANDS 32

typedef struct completion_model {
    cmdspec globals;                 /* options before the command (retirectl --help) */
    size_t n;
    const char *names[COMPLETION_MAX_COMMANDS];     /* borrowed from the command table, or alias_names */
    const char *summaries[COMPLETION_MAX_COMMANDS];
    char *alias_names[COMPLETION_MAX_COMMANDS];     /* owned: an alias's name ("console"), else NULL */
    char *alias_summaries[COMPLETION_MAX_COMMANDS]; /* owned: "the same as tui", else NULL */
    cmdspec specs[COMPLETION_MAX_COMMANDS];
} completion_model;

void completion_write_bash(FILE *out, const completion_model *m);
void completion_write_zsh(FILE *out, const completion_model *m);

#endif
