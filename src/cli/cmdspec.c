/* cmdspec: a command's options and positionals, read from its cli_cmd_entry (see cmdspec.h). */
#include "cli/cmdspec.h"

#include <stdio.h>
#include <string.h>

cmdspec_kind cmdspec_kind_of(const char *opt, const char *meta, char *words, size_t words_len)
{
    if (words_len) words[0] = '\0';
    if (!meta) return CMDSPEC_FLAG;
    if (opt && strcmp(opt, "--theme") == 0) return CMDSPEC_THEME;
    if (opt && (strcmp(opt, "--config") == 0 || strcmp(opt, "--config_file") == 0 || strcmp(opt, "--config-file") == 0))
        return CMDSPEC_CONFIG;
    if (strchr(meta, '|')) {
        snprintf(words, words_len, "%s", meta);
        for (char *p = words; *p; p++)
            if (*p == '|') *p = ',';
        return CMDSPEC_WORDS;
    }
    if (strcmp(meta, "FILE") == 0 || strcmp(meta, "F") == 0) return CMDSPEC_FILE;
    if (strcmp(meta, "D") == 0 || strcmp(meta, "DIR") == 0) return CMDSPEC_DIR;
    if (strcmp(meta, "DRIVER.METHOD") == 0) return CMDSPEC_METHOD;
    return CMDSPEC_VALUE;
}

void cmdspec_kind_word(const cmdspec_arg *a, char *out, size_t len)
{
    static const char *const names[] = {"flag", "value", "file", "config", "dir", "theme", "method", "words"};
    if (a->kind == CMDSPEC_WORDS) snprintf(out, len, "words:%s", a->words);
    else snprintf(out, len, "%s", names[a->kind]);
}

/* Adds option name with its META (NULL: a flag) unless s has it. */
static void add_option(cmdspec *s, const char *name, const char *meta)
{
    for (size_t i = 0; i < s->n_opts; i++)
        if (strcmp(s->opts[i].name, name) == 0) return;
    if (s->n_opts >= sizeof s->opts / sizeof s->opts[0]) return;
    cmdspec_arg *a = &s->opts[s->n_opts++];
    snprintf(a->name, sizeof a->name, "%.*s", (int)sizeof a->name - 1, name);
    a->kind = cmdspec_kind_of(name, meta, a->words, sizeof a->words);
}

/* cli_entry_each_opt callback: every spelling of a visible option. */
static void add_entry_option(const cli_opt *o, void *ctx)
{
    if (!cli_opt_shown(o)) return;
    for (const char *p = o->names; *p;) {
        size_t n = strcspn(p, "|");
        char name[48];
        snprintf(name, sizeof name, "%.*s", (int)n, p);
        add_option(ctx, name, o->meta);
        p += n + (p[n] == '|');
    }
}

void cmdspec_of_entry(cmdspec *s, const cli_cmd_entry *e)
{
    cli_entry_each_opt(e, add_entry_option, s);
    if (e->variant) cli_entry_each_opt(e->variant, add_entry_option, s);
    char names[CLI_MAX_ARGS][48];
    size_t min, max, n = cli_entry_positionals(e, &min, &max, names);
    for (size_t i = 0; i < n && s->n_pos < sizeof s->pos / sizeof s->pos[0]; i++) {
        cmdspec_arg *a = &s->pos[s->n_pos++];
        snprintf(a->name, sizeof a->name, "%.47s", names[i]);
        a->kind = cmdspec_kind_of(NULL, names[i], a->words, sizeof a->words);
    }
}
