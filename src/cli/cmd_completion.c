/* retirectl completion: prints the bash or zsh completion script or the man page's COMMANDS,
 * built from the command table (completion.h), and lists the values the scripts ask for at <Tab>. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_entry.h"
#include "cli/common.h"
#include "cli/completion.h"
#include "engine/paths.h"
#include "engine/reg.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

/* Builds the model from the command table: each command and alias with its entry's options. */
static completion_model *build_model(void)
{
    completion_model *m = xcalloc(1, sizeof *m);
    cmdspec_of_entry(&m->globals, &cli_global_entry);
    size_t n;
    const cli_cmd_entry *const *t = cli_commands(&n);
    for (size_t i = 0; i < n; i++) {
        const cli_cmd_entry *e = t[i];
        if (!e) continue;
        const char *name = e->name, *alias = e->aliases;
        for (;;) {
            if (m->n == COMPLETION_MAX_COMMANDS) return m;
            m->names[m->n] = name;
            m->summaries[m->n] = e->summary;
            if (name != e->name) m->summaries[m->n] = m->alias_summaries[m->n] = sb_fmt("the same as %s", e->name);
            cmdspec_of_entry(&m->specs[m->n], e);
            m->n++;
            if (!alias || !*alias) break;
            size_t len = strcspn(alias, "|");
            name = m->alias_names[m->n] = sb_fmt("%.*s", (int)len, alias);
            alias += len + (alias[len] == '|');
        }
    }
    return m;
}

/* Frees the model and the alias names it made. */
static void free_model(completion_model *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->alias_names[i]);
        free(m->alias_summaries[i]);
    }
    free(m);
}

/* Prints DRIVER.METHOD for every method the registry knows (config optional, errors silent). */
static int list_methods(const cli_globals *g)
{
    char *path = cli_config_path(g, NULL);
    cfg *config = NULL;
    char err[1024];
    if (path && cfg_load(path, &config, err, sizeof err) != 0) config = NULL;
    free(path);
    reg *r = reg_new(config, g->driver_paths);
    reg_load_all(r);
    for (size_t i = 0; i < reg_count(r); i++) {
        const reg_driver_info *d = reg_info(r, i);
        for (size_t k = 0; d->driver && d->driver->methods && d->driver->methods[k].name; k++)
            printf("%s.%s\n", d->name, d->driver->methods[k].name);
    }
    reg_free(r);
    if (config) cfg_free(config);
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Appends name (malloc'd, ownership passes) to the array *names of *n. */
static void push_name(char ***names, size_t *n, char *name)
{
    char **grown = xrealloc(*names, (*n + 1) * sizeof **names);
    *names = grown;
    (*names)[(*n)++] = name;
}

/* Adds the NAME of every NAME.theme file in dir (may be NULL) to names. */
static void add_theme_files(const char *dir, char ***names, size_t *n)
{
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 6 || strcmp(e->d_name + len - 6, ".theme") != 0) continue;
        push_name(names, n, sb_fmt("%.*s", (int)(len - 6), e->d_name));
    }
    closedir(d);
}

/* Prints the theme names --theme accepts: the built-ins, the user's and the install's files. */
static int list_themes(void)
{
    char **names = NULL;
    size_t n = 0;
    push_name(&names, &n, sb_fmt("default"));
    push_name(&names, &n, sb_fmt("mono"));
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    char *user = xdg && *xdg ? sb_fmt("%s/retirectl/themes", xdg)
                 : home && *home ? sb_fmt("%s/.config/retirectl/themes", home) : NULL;
    char *shipped = paths_theme_dir();
    add_theme_files(user, &names, &n);
    add_theme_files(shipped, &names, &n);
    free(user);
    free(shipped);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(names[i], names[i - 1]) != 0) printf("%s\n", names[i]);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return 0;
}

/* Writes the man page's generated sections, GLOBAL OPTIONS and COMMANDS, from the command table. */
static int write_man(FILE *out)
{
    fputs(".SH GLOBAL OPTIONS\n", out);
    cli_entry_man_options(&cli_global_entry, out);
    fputs(".SH COMMANDS\n"
          "Generated from the command table, as \\fB\\-\\-help\\fR and the shell completion are\n"
          "(\\fBretirectl completion man\\fR); \\fBretirectl\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR says more.\n",
          out);
    size_t n;
    const cli_cmd_entry *const *t = cli_commands(&n);
    for (size_t i = 0; i < n; i++) {
        if (!t[i]) continue;
        cli_entry_man(t[i], out);
        if (t[i]->aliases) {
            fputs(".IP\nAlso: \\fB", out);
            fputs(t[i]->aliases, out);
            fputs("\\fR.\n", out);
        }
    }
    return 0;
}

static int completion_exec(const cli_args *a, const cli_globals *g)
{
    const char *list = cli_args_get(a, "--list"), *shell = cli_args_arg(a, 0);
    if (list && !shell) return strcmp(list, "methods") == 0 ? list_methods(g) : list_themes();
    if (!list && shell && (!strcmp(shell, "bash") || !strcmp(shell, "zsh") || !strcmp(shell, "man"))) {
        if (strcmp(shell, "man") == 0) return write_man(stdout);
        completion_model *m = build_model();
        if (strcmp(shell, "bash") == 0) completion_write_bash(stdout, m);
        else completion_write_zsh(stdout, m);
        free_model(m);
        return 0;
    }
    fprintf(stderr, "retirectl completion: give bash, zsh or man, or --list methods|themes (see retirectl completion "
                    "--help)\n");
    return CLI_EXIT_USAGE;
}

static const cli_opt completion_options[] = {
    {"--list", "methods|themes",
     "one DRIVER.METHOD of the registry (built-ins, installed plugins, the config's\n"
     "extra_services and entry points) or theme per line: what the scripts ask at <Tab>",
     0, NULL},
    CLI_OPT_END,
};

const cli_cmd_entry cmd_completion_entry = {
    .name = "completion",
    .args = "[bash|zsh|man]",
    .summary = "print the bash or zsh completion script, or the man page's sections made from the command table",
    .more_usage = "retirectl [--config FILE] [--driver-path FILE]... completion --list methods|themes",
    .about = "Prints the shell completion script for bash or zsh: commands, their options and values,\n"
             "DRIVER.METHOD names, theme names and config files. Load it for this shell with\n"
             "  source <(retirectl completion bash)      (zsh: after compinit)\n"
             "`man` prints the GLOBAL OPTIONS and COMMANDS sections of retirectl(1), made from the same table.\n"
             "The Debian package installs both scripts.\n",
    .opts = completion_options,
    .exec = completion_exec,
};
