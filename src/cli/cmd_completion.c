/* retirectl completion: prints the bash or zsh completion script, built from the command table
 * and each command's --help (completion.h), and lists the values the scripts ask for at <Tab>. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/completion.h"
#include "engine/paths.h"
#include "engine/reg.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

static void usage(FILE *out)
{
    fputs("usage: retirectl completion bash|zsh|man\n"
          "       retirectl [--config FILE] [--driver-path FILE]... completion --list methods|themes\n"
          "\n"
          "Prints the shell completion script for bash or zsh: commands, their options and values,\n"
          "DRIVER.METHOD names, theme names and config files. Load it for this shell with\n"
          "  source <(retirectl completion bash)      (zsh: after compinit)\n"
          "`man` prints the COMMANDS section of retirectl(1), made from the same table.\n"
          "The Debian package installs both scripts. The scripts run `completion --list` at <Tab>:\n"
          "  --list methods|themes  one DRIVER.METHOD of the registry (built-ins, installed plugins,\n"
          "                         the config's extra_services and entry points) or theme per line\n",
          out);
}

/* Runs fn(argv) in a child with stdout captured and stderr dropped; returns what it printed
 * (malloc'd, "" when nothing). */
static char *capture(int (*fn)(int, char **, const cli_globals *), char **argv, int argc, const cli_globals *g)
{
    int fds[2];
    fflush(stdout);
    if (pipe(fds) != 0) return xstrdup("");
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDOUT_FILENO);
        FILE *null = freopen("/dev/null", "w", stderr);
        (void)null;
        fn(argc, argv, g);
        fflush(stdout);
        _exit(0);
    }
    close(fds[1]);
    strbuf sb = STRBUF_INIT;
    char buf[4096];
    ssize_t n;
    while (pid > 0 && (n = read(fds[0], buf, sizeof buf)) > 0) sb_addn(&sb, buf, (size_t)n);
    close(fds[0]);
    if (pid > 0) waitpid(pid, NULL, 0);
    return sb_take(&sb);
}

/* Reads a command's options from `retirectl NAME --help` and any further form it points at
 * ("(see retirectl NAME --all --help)"). */
static void scan_command(cmdspec *s, const cli_command *c, const cli_globals *g)
{
    char help_arg[] = "--help";
    char *argv[] = {(char *)c->name, help_arg, NULL, NULL};
    char *help = capture(c->fn, argv, 2, g);
    cmdspec_scan(s, c->name, help);
    strbuf see = STRBUF_INIT;
    sb_addf(&see, "(see retirectl %s --", c->name);
    const char *p = strstr(help, sb_str(&see));
    if (p) {
        char form[64];
        p += see.len - 2;
        size_t n = strcspn(p, " )");
        snprintf(form, sizeof form, "%.*s", (int)n, p);
        argv[1] = form;
        argv[2] = help_arg;
        char *more = capture(c->fn, argv, 3, g);
        cmdspec_scan(s, c->name, more);
        free(more);
    }
    sb_free(&see);
    free(help);
}

/* Builds the model from the command table (commands not in this build are left out). */
static completion_model *build_model(const cli_globals *g)
{
    completion_model *m = xcalloc(1, sizeof *m);
    FILE *mem;
    char *text = NULL;
    size_t len = 0;
    if ((mem = open_memstream(&text, &len))) {
        cli_usage(mem);
        fclose(mem);
        cmdspec_scan(&m->globals, NULL, text);
        free(text);
    }
    size_t n;
    const cli_command *t = cli_commands(&n);
    for (size_t i = 0; i < n && m->n < COMPLETION_MAX_COMMANDS; i++) {
        if (!t[i].fn) continue;
        m->names[m->n] = t[i].name;
        m->summaries[m->n] = t[i].summary;
        scan_command(&m->specs[m->n], &t[i], g);
        m->n++;
    }
    return m;
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

int cmd_completion(int argc, char **argv, const cli_globals *g)
{
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--list") == 0) {
        if (strcmp(argv[2], "methods") == 0) return list_methods(g);
        if (strcmp(argv[2], "themes") == 0) return list_themes();
    }
    if (argc == 2 && (!strcmp(argv[1], "bash") || !strcmp(argv[1], "zsh") || !strcmp(argv[1], "man"))) {
        completion_model *m = build_model(g);
        if (strcmp(argv[1], "bash") == 0) completion_write_bash(stdout, m);
        else if (strcmp(argv[1], "zsh") == 0) completion_write_zsh(stdout, m);
        else completion_write_man(stdout, m);
        free(m);
        return 0;
    }
    fprintf(stderr, "retirectl completion: give bash, zsh or man, or --list methods|themes (see retirectl completion "
                    "--help)\n");
    return 2;
}
