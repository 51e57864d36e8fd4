/* cmdspec (prefix cmdspec_): what a command accepts, as shell completion and the man page need
 * it, read from the command's cli_cmd_entry (cmd_entry.h): every visible spelling of every
 * option with the kind of its value, and the positionals of its args template. The kind comes
 * from the META: a|b|c (those words), FILE or F (files), D or DIR (folders), DRIVER.METHOD (the
 * registry's methods), --config/--config_file (YAML files), --theme (theme names), anything
 * else (a free value); no META means a flag. */
#ifndef RETIRECTL_CLI_CMDSPEC_H
#define RETIRECTL_CLI_CMDSPEC_H

#include <stddef.h>

#include "cli/cmd_entry.h"

typedef enum cmdspec_kind {
    CMDSPEC_FLAG,   /* an option without a value */
    CMDSPEC_VALUE,  /* a free value (N, TEXT, USER): nothing to offer */
    CMDSPEC_FILE,
    CMDSPEC_CONFIG, /* a retirement config: *.yml, *.yaml */
    CMDSPEC_DIR,
    CMDSPEC_THEME,
    CMDSPEC_METHOD, /* DRIVER.METHOD */
    CMDSPEC_WORDS   /* one of words */
} cmdspec_kind;

typedef struct cmdspec_arg {
    char name[48];     /* "--format", or the positional's META ("DRIVER.METHOD") */
    cmdspec_kind kind;
    char words[128];   /* CMDSPEC_WORDS: the choices, comma-separated ("table,json,jenkins") */
} cmdspec_arg;

typedef struct cmdspec {
    cmdspec_arg opts[64];
    size_t n_opts;
    cmdspec_arg pos[8]; /* positionals of the first usage line, in order */
    size_t n_pos;
} cmdspec;

/* Adds what entry e declares to s: its options (and its variant's), and its positionals.
 * Options already in s keep their first entry. */
void cmdspec_of_entry(cmdspec *s, const cli_cmd_entry *e);
/* The kind of an option's value from its name and META (NULL: a flag); words gets the choices. */
cmdspec_kind cmdspec_kind_of(const char *opt, const char *meta, char *words, size_t words_len);
/* The spelling of a kind in the generated scripts ("flag", "file", "words:a,b", ...) into out. */
void cmdspec_kind_word(const cmdspec_arg *a, char *out, size_t len);

#endif
