/* `retirectl queue`: the learners waiting for retirement, as get_learners_to_retire.py asks
 * the LMS for them (docs/lms-api.md §9.2): table, JSON, or the Jenkins property files it writes. */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <locale.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "engine/shard.h"
#include "engine/strbuf.h"

static void usage(FILE *out)
{
    fputs("usage: retirectl queue [--cool-off-days N] [--states A,B] [--limit N] [--shard I/N]\n"
          "                       [--format table|json|jenkins] [--output-dir D]\n"
          "                       [--user-count-error-threshold N] [--max-user-batch-size N]\n"
          "\n"
          "Lists the learners ready for retirement: the LMS retirement_queue with the states PENDING\n"
          "and every pipeline end state, created more than --cool-off-days ago (get_learners_to_retire.py).\n"
          "\n"
          "  --cool-off-days N               days a request waits before it is retired (default 7)\n"
          "  --states A,B                    states to ask for (default PENDING + every end state)\n"
          "  --limit N                       ask the LMS for at most N (default: the batch size)\n"
          "  --max-user-batch-size N         at most N learners (default 200; 0 = no limit)\n"
          "  --user-count-error-threshold N  fail (exit 255) when more than N learners are returned\n"
          "                                  (default 300)\n"
          "  --shard I/N                     only learners of shard I of N (0-based; see docs/scaling.md)\n"
          "  --format table|json|jenkins     table (default), the LMS records as JSON (also --json), or\n"
          "                                  one file learner_retire_<username lowercased> per learner\n"
          "                                  containing RETIREMENT_USERNAME=<username> (the directory is\n"
          "                                  deleted and recreated, as get_learners_to_retire.py does)\n"
          "  --output-dir D                  directory for --format jenkins (default ./jenkins_props)\n"
          "Underscore spellings (--cool_off_days, --output_dir, ...) are accepted too.\n"
          "\n"
          "Exit status (get_learners_to_retire.py): 0; 255 too many learners or no config file;\n"
          "1 the LMS could not be asked (the output directory is then left alone) or the config is bad.\n",
          out);
}

/* Unicode "cased" and "case-ignorable" as Python's final-sigma rule uses them (close
 * approximation: letters with case; apostrophes, dots, colons, modifier marks, combining marks). */
static int py_cased(wchar_t c)
{
    return iswupper((wint_t)c) || iswlower((wint_t)c) || towlower((wint_t)c) != (wint_t)c ||
           towupper((wint_t)c) != (wint_t)c;
}
static int py_case_ignorable(wchar_t c)
{
    return c == '\'' || c == '.' || c == ':' || c == '^' || c == '`' || c == 0xB7 || c == 0x2019 ||
           (c >= 0x300 && c <= 0x36F) || (c >= 0x2B0 && c <= 0x2FF);
}

/* Python's str.lower() of a UTF-8 string: the simple case mapping plus Python's two special
 * cases (U+0130 -> "i" U+0307; capital sigma -> final sigma at the end of a word). Invalid
 * bytes are kept (ASCII-lowered). malloc'd. */
static char *py_lower(const char *s)
{
    locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    locale_t old = loc ? uselocale(loc) : (locale_t)0;
    size_t n = strlen(s);
    /* decode first (code point, or -1 for an invalid byte), so sigma can look both ways */
    wchar_t *cps = calloc(n + 1, sizeof *cps);
    size_t ncp = 0;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    for (const char *p = s; *p;) {
        wchar_t wc;
        size_t k = mbrtowc(&wc, p, n - (size_t)(p - s), &st);
        if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
            cps[ncp++] = -(wchar_t)(unsigned char)*p; /* raw byte, stored negated */
            p++;
            memset(&st, 0, sizeof st);
            continue;
        }
        cps[ncp++] = wc;
        p += k;
    }
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < ncp; i++) {
        wchar_t wc = cps[i];
        if (wc <= 0) {
            sb_addc(&sb, (char)tolower((unsigned char)-wc));
            continue;
        }
        wchar_t low = (wchar_t)towlower((wint_t)wc);
        if (wc == 0x130) {
            sb_add(&sb, "i\xcc\x87");
            continue;
        }
        if (wc == 0x3A3) {
            int before = 0, after = 0;
            for (size_t j = i; j-- > 0;) {
                if (cps[j] > 0 && py_case_ignorable(cps[j])) continue;
                before = cps[j] > 0 && py_cased(cps[j]);
                break;
            }
            for (size_t j = i + 1; j < ncp; j++) {
                if (cps[j] > 0 && py_case_ignorable(cps[j])) continue;
                after = cps[j] > 0 && py_cased(cps[j]);
                break;
            }
            low = before && !after ? 0x3C2 : 0x3C3;
        }
        char out[MB_LEN_MAX];
        mbstate_t os;
        memset(&os, 0, sizeof os);
        size_t m = wcrtomb(out, low, &os);
        if (m != (size_t)-1) sb_addn(&sb, out, m);
    }
    free(cps);
    if (loc) {
        uselocale(old);
        freelocale(loc);
    }
    if (!sb.data) sb_add(&sb, "");
    return sb_take(&sb);
}

/* rm -rf path (shutil.rmtree). 0 or -1 with errno. */
static int remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlink(path);
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        strbuf p = STRBUF_INIT;
        sb_addf(&p, "%s/%s", path, de->d_name);
        if (remove_tree(sb_str(&p)) != 0) rc = -1;
        sb_free(&p);
    }
    closedir(d);
    if (rc == 0) rc = rmdir(path);
    return rc;
}

/* os.makedirs(path). */
static int make_dirs(const char *path)
{
    char *copy = strdup(path);
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
            free(copy);
            return -1;
        }
        *p = '/';
    }
    int rc = mkdir(copy, 0777);
    free(copy);
    return rc == 0 || errno == EEXIST ? 0 : -1;
}

static const char *rec_str(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b) v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsString(v) ? v->valuestring : "";
}

int cmd_queue(int argc, char **argv, const cli_globals *g)
{
    long cool_off = 7, limit = -1, threshold = 300, batch = 200;
    const char *states_arg = NULL, *format = NULL, *output_dir = "./jenkins_props", *shard_arg = NULL,
               *config_file = NULL;
    int missing = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if ((v = cli_opt_value(argc, argv, &i, "--cool-off-days", &missing))) {
            /* any integer, as click's int: a negative one is sent and the LMS refuses it (exit 1) */
            char *end = NULL;
            errno = 0;
            cool_off = strtol(v, &end, 10);
            if (errno || end == v || *end) {
                fprintf(stderr, "retirectl: --cool-off-days needs a whole number, not '%s'\n", v);
                return CLI_EXIT_USAGE;
            }
        } else if ((v = cli_opt_value(argc, argv, &i, "--limit", &missing))) {
            if (cli_parse_long("--limit", v, &limit)) return CLI_EXIT_USAGE;
        } else if ((v = cli_opt_value(argc, argv, &i, "--user-count-error-threshold", &missing))) {
            if (cli_parse_long("--user-count-error-threshold", v, &threshold)) return CLI_EXIT_USAGE;
        } else if ((v = cli_opt_value(argc, argv, &i, "--max-user-batch-size", &missing))) {
            if (cli_parse_long("--max-user-batch-size", v, &batch)) return CLI_EXIT_USAGE;
        } else if ((v = cli_opt_value(argc, argv, &i, "--states", &missing))) {
            states_arg = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--format", &missing))) {
            format = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--output-dir", &missing))) {
            output_dir = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--shard", &missing))) {
            shard_arg = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--config_file", &missing)) ||
                   (v = cli_opt_value(argc, argv, &i, "--config", &missing))) {
            config_file = v;
        } else if (cli_opt_flag(argv[i], "--json")) {
            format = "json";
        } else if (missing) {
            return CLI_EXIT_USAGE;
        } else {
            fprintf(stderr, "retirectl queue: unknown option '%s' (see retirectl queue --help)\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (missing) return CLI_EXIT_USAGE;
    if (!format) format = (g && g->json) ? "json" : "table";
    if (strcmp(format, "table") && strcmp(format, "json") && strcmp(format, "jenkins")) {
        fprintf(stderr, "retirectl queue: --format must be table, json or jenkins, not '%s'\n", format);
        return CLI_EXIT_USAGE;
    }
    shard_spec shard = {0, 1};
    if (shard_arg) {
        char err[512];
        if (shard_parse(shard_arg, &shard, err, sizeof err) != 0) {
            fprintf(stderr, "retirectl queue: %s\n", err);
            return CLI_EXIT_USAGE;
        }
    }
    char *path = cli_config_path(g, config_file);
    if (!path) {
        fprintf(stderr, "A config file is required.\n");
        return CLI_EXIT_SETUP;
    }
    free(path);
    cli_ctx ctx;
    int rc = cli_open(&ctx, g, config_file, CLI_NEED_LMS);
    if (rc) return rc == CLI_EXIT_BAD_CONFIG ? 1 : rc; /* upstream: config errors are uncaught (exit 1) */

    /* upstream reads config['retirement_pipeline']: a config without the key is a KeyError
     * (exit 1, nothing asked); an empty list asks for PENDING only */
    if (!states_arg && !cfg_get(ctx.config, "retirement_pipeline")) {
        cli_error(ctx.config, "%s has no retirement_pipeline; add the pipeline (or give --states).",
                  ctx.config_path ? ctx.config_path : "the config");
        cli_close(&ctx);
        return 1;
    }
    /* states: PENDING + the end state of every pipeline row (duplicates kept, as upstream) */
    const char **states = NULL;
    size_t n_states = 0;
    char *states_copy = NULL;
    if (states_arg) {
        states_copy = strdup(states_arg);
        states = calloc(strlen(states_arg) + 2, sizeof *states);
        for (char *save = NULL, *t = strtok_r(states_copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
            if (*t) states[n_states++] = t;
    } else {
        states = calloc(ctx.config->n_steps + 2, sizeof *states);
        states[n_states++] = "PENDING";
        for (size_t i = 0; i < ctx.config->n_steps; i++) states[n_states++] = ctx.config->steps[i].end_state;
    }
    long ask = limit >= 0 ? limit : batch;
    cJSON *arr = NULL;
    lms_error e;
    if (lms_queue(ctx.lms, states, n_states, cool_off, ask > 0 ? ask : 0, &arr, &e) != 0) {
        cli_error(ctx.config, "could not read the retirement queue: %s", e.message);
        lms_error_clear(&e);
        free(states);
        free(states_copy);
        cli_close(&ctx);
        return 1;
    }
    lms_error_clear(&e);
    /* slice to the batch size (upstream), then keep this shard's learners */
    cJSON *list = cJSON_CreateArray();
    int k = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (batch > 0 && k >= batch) break;
        k++;
        const char *u = rec_str(it, "original_username", NULL);
        if (!shard_contains(&shard, u)) continue;
        cJSON_AddItemToArray(list, cJSON_Duplicate(it, 1));
    }
    cJSON_Delete(arr);
    int n = cJSON_GetArraySize(list);
    if (n > threshold) {
        printf("Too many learners to retire! Expected %ld or fewer, got %d!\n", threshold, n);
        fflush(stdout);
        rc = CLI_EXIT_SETUP;
    } else if (!strcmp(format, "json")) {
        char *text = cJSON_Print(list);
        cli_print_scrubbed(ctx.config, text);
        fputc('\n', stdout);
        free(text);
    } else if (!strcmp(format, "table")) {
        printf("%-6s %-32s %-24s %-28s %s\n", "ID", "USERNAME", "STATE", "REQUESTED", "LAST CHANGE");
        cJSON_ArrayForEach(it, list)
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
            char *user = cli_inert(rec_str(it, "original_username", NULL));
            char *st = cli_inert(rec_str(it, "current_state", "state_name"));
            printf("%-6.0f %-32s %-24s %-28s %s\n", cJSON_IsNumber(id) ? id->valuedouble : 0.0, user ? user : "",
                   st ? st : "", rec_str(it, "created", NULL), rec_str(it, "modified", NULL));
            free(user);
            free(st);
        }
        printf("%d learner(s)\n", n);
    } else {
        if (remove_tree(output_dir) != 0 || make_dirs(output_dir) != 0) {
            cli_error(ctx.config, "cannot recreate the output directory %s: %s", output_dir, strerror(errno));
            rc = 1;
        } else {
            cJSON_ArrayForEach(it, list)
            {
                const char *u = rec_str(it, "original_username", NULL);
                char *low = py_lower(u);
                /* a '/' would leave the directory: encode it */
                strbuf name = STRBUF_INIT;
                for (const char *p = low; *p; p++) {
                    if (*p == '/')
                        sb_add(&name, "%2F");
                    else
                        sb_addc(&name, *p);
                }
                strbuf fp = STRBUF_INIT;
                sb_addf(&fp, "%s/learner_retire_%s", output_dir, sb_str(&name));
                FILE *f = fopen(sb_str(&fp), "w");
                if (!f || fprintf(f, "RETIREMENT_USERNAME=%s\n", u) < 0 || fclose(f) != 0) {
                    cli_error(ctx.config, "cannot write %s: %s", sb_str(&fp), strerror(errno));
                    rc = 1;
                }
                sb_free(&fp);
                sb_free(&name);
                free(low);
            }
            if (!rc) fprintf(stderr, "Wrote %d learner file(s) to %s\n", n, output_dir);
        }
    }
    cJSON_Delete(list);
    free(states);
    free(states_copy);
    cli_close(&ctx);
    return rc;
}
