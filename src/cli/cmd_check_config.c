/* `retirectl check-config`: loads the config, validates it, loads every driver the pipeline
 * uses and fetches a token, printing each check with ok/FAIL and what to do. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "engine/strbuf.h"

static void usage(FILE *out)
{
    fputs("usage: retirectl check-config [--config_file FILE]\n"
          "\n"
          "Checks, in order: the config file loads (YAML, ${NAME} variables), the keys every command\n"
          "needs and each pipeline step's service URL/keys (cfg validation), every driver the pipeline\n"
          "names loads and has the method, and the LMS gives a token for client_id/client_secret.\n"
          "Prints one line per check (ok / FAIL with what to do). Secrets are never printed.\n"
          "Exit status: 0 when every check passes, else 249.\n",
          out);
}

/* Prints one check line (scrubbed). */
static void check_line(const cfg *c, int ok, const char *what, const char *detail)
{
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "  %-4s  %s%s%s\n", ok ? "ok" : "FAIL", what, detail && *detail ? ": " : "", detail ? detail : "");
    cli_print_scrubbed(c, sb_str(&sb));
    sb_free(&sb);
}

/* Loads the pipeline's drivers in a child process (a plugin's constructor may crash; plugins
 * are never dlopen()ed in the main process) and returns the number of problems, with the
 * problem lines in err. */
static int check_drivers(const cfg *c, const cli_globals *g, char *err, size_t err_len)
{
    int p[2];
    if (pipe(p) != 0) {
        snprintf(err, err_len, "cannot create a pipe: %s", strerror(errno));
        return 1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, err_len, "cannot fork: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return 1;
    }
    if (pid == 0) {
        close(p[0]);
        char text[8192] = "";
        reg *r = reg_new(c, g ? g->driver_paths : NULL);
        int n = reg_check_pipeline(r, c, text, sizeof text);
        size_t len = strlen(text), off = 0;
        while (off < len) {
            ssize_t w = write(p[1], text + off, len - off);
            if (w <= 0) break;
            off += (size_t)w;
        }
        _exit(n > 100 ? 100 : n);
    }
    close(p[1]);
    size_t len = 0;
    for (;;) {
        if (len + 1 >= err_len) break;
        ssize_t rd = read(p[0], err + len, err_len - 1 - len);
        if (rd < 0 && errno == EINTR) continue;
        if (rd <= 0) break;
        len += (size_t)rd;
    }
    err[len] = '\0';
    close(p[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(st)) {
        snprintf(err, err_len,
                 "loading the pipeline's drivers crashed (signal %d): a plugin is broken; `retirectl drivers` "
                 "shows which, fix or remove it",
                 WTERMSIG(st));
        return 1;
    }
    return WEXITSTATUS(st);
}

int cmd_check_config(int argc, char **argv, const cli_globals *g)
{
    const char *config_file = NULL;
    int missing = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if ((v = cli_opt_value(argc, argv, &i, "--config_file", &missing)) ||
                   (v = cli_opt_value(argc, argv, &i, "--config", &missing))) {
            config_file = v;
        } else if (missing) {
            return CLI_EXIT_USAGE;
        } else {
            fprintf(stderr, "retirectl check-config: unknown argument '%s' (see --help)\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (missing) return CLI_EXIT_USAGE;
    char *path = cli_config_path(g, config_file);
    if (!path) {
        check_line(NULL, 0, "config file",
                   "none given; pass --config FILE or set RETIREMENT_CONFIG_FILE");
        return CLI_EXIT_BAD_CONFIG;
    }
    char err[8192] = "";
    cfg *c = NULL;
    if (cfg_load(path, &c, err, sizeof err) != 0) {
        strbuf sb = STRBUF_INIT;
        sb_addf(&sb, "%s (fix the file and run check-config again)", err);
        check_line(NULL, 0, path, sb_str(&sb));
        sb_free(&sb);
        free(path);
        return CLI_EXIT_BAD_CONFIG;
    }
    int failures = 0;
    check_line(c, 1, "config file loads", path);
    if (cfg_validate(c, err, sizeof err) != 0) {
        check_line(c, 0, "settings and pipeline", err);
        failures++;
    } else {
        char d[128];
        snprintf(d, sizeof d, "%zu pipeline step(s), every service URL and key present", c->n_steps);
        check_line(c, 1, "settings and pipeline", d);
    }
    err[0] = '\0';
    int problems = check_drivers(c, g, err, sizeof err);
    if (problems) {
        check_line(c, 0, "drivers", err);
        failures++;
    } else {
        check_line(c, 1, "drivers", "every driver the pipeline names loads and has its method");
    }
    http_client *h = http_client_new(c, err, sizeof err);
    if (!h) {
        check_line(c, 0, "LMS client", err);
        failures++;
    } else {
        err[0] = '\0';
        if (http_ensure_token(h, err, sizeof err) != 0) {
            strbuf sb = STRBUF_INIT;
            sb_addf(&sb, "%s (check base_urls.lms, client_id and client_secret)", err);
            check_line(c, 0, "LMS token", sb_str(&sb));
            sb_free(&sb);
            failures++;
        } else {
            const char *lms = cfg_string(c, "base_urls.lms");
            strbuf sb = STRBUF_INIT;
            sb_addf(&sb, "fetched from %s for client_id %s", lms ? lms : "?", cfg_string(c, "client_id") ? cfg_string(c, "client_id") : "?");
            check_line(c, 1, "LMS token", sb_str(&sb));
            sb_free(&sb);
        }
        http_client_free(h);
    }
    printf("%s\n", failures ? "check-config: FAILED" : "check-config: all checks passed");
    cfg_free(c);
    free(path);
    return failures ? CLI_EXIT_BAD_CONFIG : 0;
}
