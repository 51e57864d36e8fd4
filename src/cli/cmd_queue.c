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
#include "cli/cmd_entry.h"
#include "cli/common.h"
#include "cli/learner_args.h"
#include "engine/shard.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

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
    wchar_t *cps = xcalloc(n + 1, sizeof *cps);
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
    char *copy = xstrdup(path);
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

/* The string at o[a][b] (b may be NULL), or "". */
static const char *rec_str(const cJSON *o, const char *a, const char *b)
{
    const char *v = json_str_at(o, a, b, NULL);
    return v ? v : "";
}

/* The command line of `retirectl queue`. */
typedef struct {
    long cool_off, limit, threshold, batch;
    const char *states_arg, *format, *output_dir, *config_file;
    shard_spec shard;
} queue_opts;

/* Reads the parsed line into o (defaults first). -1 to go on, else the exit status. */
static int read_options(const cli_args *a, const cli_globals *g, queue_opts *o)
{
    *o = (queue_opts){.cool_off = 7, .limit = -1, .threshold = 300, .batch = 200, .output_dir = "./jenkins_props",
                      .shard = {0, 1}};
    const char *cool_off = cli_args_get(a, "--cool-off-days");
    if (cool_off) {
        /* any integer, as click's int: a negative one is sent and the LMS refuses it (exit 1) */
        char *end = NULL;
        errno = 0;
        o->cool_off = strtol(cool_off, &end, 10);
        if (errno || end == cool_off || *end) {
            fprintf(stderr, "retirectl: --cool-off-days needs a whole number, not '%s'\n", cli_inert_tmp(cool_off));
            return CLI_EXIT_USAGE;
        }
    }
    if (cli_args_long(a, "--limit", -1, &o->limit) ||
        cli_args_long(a, "--user-count-error-threshold", o->threshold, &o->threshold) ||
        cli_args_long(a, "--max-user-batch-size", o->batch, &o->batch))
        return CLI_EXIT_USAGE;
    o->states_arg = cli_args_get(a, "--states");
    o->config_file = cli_args_get(a, "--config_file");
    if (cli_args_get(a, "--output-dir")) o->output_dir = cli_args_get(a, "--output-dir");
    /* the parser checked the word; --format given wins over --json */
    o->format = cli_args_get(a, "--format");
    if (!o->format) o->format = (cli_args_has(a, "--json") || (g && g->json)) ? "json" : "table";
    const char *shard = cli_args_get(a, "--shard");
    char err[512];
    if (shard && shard_parse(shard, &o->shard, err, sizeof err) != 0) {
        fprintf(stderr, "retirectl queue: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

/* The states asked for: --states split at commas (in *copy, to free), else PENDING and the end
 * state of every pipeline row (duplicates kept, as upstream). A calloc'd array. */
static const char **queue_states(const queue_opts *o, const cfg *config, size_t *n, char **copy)
{
    const char **states;
    *n = 0;
    *copy = NULL;
    if (o->states_arg) {
        *copy = xstrdup(o->states_arg);
        states = xcalloc(strlen(o->states_arg) + 2, sizeof *states);
        for (char *save = NULL, *t = strtok_r(*copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
            if (*t) states[(*n)++] = t;
        return states;
    }
    states = xcalloc(config->n_steps + 2, sizeof *states);
    states[(*n)++] = "PENDING";
    for (size_t i = 0; i < config->n_steps; i++) states[(*n)++] = config->steps[i].end_state;
    return states;
}

/* The learners of the queue, sliced to the batch size (upstream), then this shard's; NULL after
 * saying why the queue could not be read. */
static cJSON *fetch_queue(const cli_ctx *ctx, const queue_opts *o)
{
    size_t n_states;
    char *states_copy;
    const char **states = queue_states(o, ctx->config, &n_states, &states_copy);
    long ask = o->limit >= 0 ? o->limit : o->batch;
    cJSON *arr = NULL;
    lms_error e;
    int rc = lms_queue(ctx->lms, states, n_states, o->cool_off, ask > 0 ? ask : 0, &arr, &e);
    free(states);
    free(states_copy);
    if (rc != 0) {
        cli_error(ctx->config, "could not read the retirement queue: %s", e.message);
        lms_error_clear(&e);
        return NULL;
    }
    lms_error_clear(&e);
    cJSON *list = cJSON_CreateArray();
    int k = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (o->batch > 0 && k >= o->batch) break;
        k++;
        const char *u = rec_str(it, "original_username", NULL);
        if (!shard_contains(&o->shard, u)) continue;
        cJSON_AddItemToArray(list, cJSON_Duplicate(it, 1));
    }
    cJSON_Delete(arr);
    return list;
}

/* --format table: one line per learner, then the count. */
static void print_table(const cJSON *list)
{
    printf("%-6s %-32s %-24s %-28s %s\n", "ID", "USERNAME", "STATE", "REQUESTED", "LAST CHANGE");
    const cJSON *it;
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
    printf("%d learner(s)\n", cJSON_GetArraySize(list));
}

/* --format jenkins: the output directory recreated with one learner_retire_<lower-cased
 * username> properties file per learner. 0, or 1 after naming what could not be written. */
static int write_jenkins(const cfg *config, const cJSON *list, const char *output_dir)
{
    if (remove_tree(output_dir) != 0 || make_dirs(output_dir) != 0) {
        cli_error(config, "cannot recreate the output directory %s: %s", output_dir, strerror(errno));
        return 1;
    }
    int rc = 0;
    const cJSON *it;
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
            cli_error(config, "cannot write %s: %s", sb_str(&fp), strerror(errno));
            rc = 1;
        }
        sb_free(&fp);
        sb_free(&name);
        free(low);
    }
    if (!rc) fprintf(stderr, "Wrote %d learner file(s) to %s\n", cJSON_GetArraySize(list), output_dir);
    return rc;
}

static int queue_exec(const cli_args *a, const cli_globals *g)
{
    queue_opts o;
    int rc = read_options(a, g, &o);
    if (rc >= 0) return rc;
    char *path = cli_config_path(g, o.config_file);
    if (!path) {
        fprintf(stderr, "A config file is required.\n");
        return CLI_EXIT_SETUP;
    }
    free(path);
    cli_ctx ctx;
    rc = cli_open(&ctx, g, o.config_file, CLI_NEED_LMS);
    if (rc) return rc == CLI_EXIT_BAD_CONFIG ? 1 : rc; /* upstream: config errors are uncaught (exit 1) */

    /* upstream reads config['retirement_pipeline']: a config without the key is a KeyError
     * (exit 1, nothing asked); an empty list asks for PENDING only */
    if (!o.states_arg && !cfg_get(ctx.config, "retirement_pipeline")) {
        cli_error(ctx.config, "%s has no retirement_pipeline; add the pipeline (or give --states).",
                  ctx.config_path ? ctx.config_path : "the config");
        cli_close(&ctx);
        return 1;
    }
    cJSON *list = fetch_queue(&ctx, &o);
    if (!list) {
        cli_close(&ctx);
        return 1;
    }
    int n = cJSON_GetArraySize(list);
    if (n > o.threshold) {
        printf("Too many learners to retire! Expected %ld or fewer, got %d!\n", o.threshold, n);
        fflush(stdout);
        rc = CLI_EXIT_SETUP;
    } else if (!strcmp(o.format, "json")) {
        char *text = cJSON_Print(list);
        cli_print_scrubbed(ctx.config, text);
        fputc('\n', stdout);
        free(text);
    } else if (!strcmp(o.format, "table")) {
        print_table(list);
    } else {
        rc = write_jenkins(ctx.config, list, o.output_dir);
    }
    cJSON_Delete(list);
    cli_close(&ctx);
    return rc;
}

static const cli_opt queue_options[] = {
    {"--cool-off-days", "N", "days a request waits before it is retired (default 7)", 0, NULL},
    {"--states", "A,B", "states to ask for (default PENDING + every end state)", 0, NULL},
    {"--limit", "N", "ask the LMS for at most N (default: the batch size)", 0, NULL},
    {"--max-user-batch-size", "N", "at most N learners (default 200; 0 = no limit)", 0, NULL},
    {"--user-count-error-threshold", "N", "fail (exit 255) when more than N learners are returned\n(default 300)", 0, NULL},
    {"--shard", "I/N", "only learners of shard I of N (0-based; see docs/scaling.md)", 0, NULL},
    {"--format", "table|json|jenkins",
     "table (default), the LMS records as JSON (also --json), or\n"
     "one file learner_retire_<username lowercased> per learner\n"
     "containing RETIREMENT_USERNAME=<username> (the directory is\n"
     "deleted and recreated, as get_learners_to_retire.py does)",
     0, NULL},
    {"--output-dir", "D", "directory for --format jenkins (default ./jenkins_props)", 0, NULL},
    CLI_OPT_ROW_JSON("the same as --format json (a --format given wins)"),
    CLI_OPT_ROW_CONFIG_FILE,
    CLI_OPT_END,
};

const cli_cmd_entry cmd_queue_entry = {
    .name = "queue",
    .summary = "list learners waiting for retirement (get_learners_to_retire.py)",
    .about = "Lists the learners ready for retirement: the LMS retirement_queue with the states PENDING\n"
             "and every pipeline end state, created more than --cool-off-days ago (get_learners_to_retire.py).\n",
    .opts = queue_options,
    .epilogue = "Underscore spellings (--cool_off_days, --output_dir, ...) are accepted too.\n"
                "\n"
                "Exit status (get_learners_to_retire.py): 0; 255 too many learners or no config file;\n"
                "1 the LMS could not be asked (the output directory is then left alone) or the config is bad.\n",
    .exec = queue_exec,
};

