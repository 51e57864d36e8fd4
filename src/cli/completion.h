/* completion (prefix completion_): bash and zsh completion scripts written from the command table
 * (main.c) and each command's --help text (cmdspec.h). Commands, options and fixed choices are
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
    const char *names[COMPLETION_MAX_COMMANDS];     /* borrowed from the command table */
    const char *summaries[COMPLETION_MAX_COMMANDS];
    cmdspec specs[COMPLETION_MAX_COMMANDS];
} completion_model;

void completion_write_bash(FILE *out, const completion_model *m);
void completion_write_zsh(FILE *out, const completion_model *m);
/* Writes the man page's COMMANDS section (roff) from the same model: each command, its
 * positionals, summary and options. */
void completion_write_man(FILE *out, const completion_model *m);

#endif
