/* cmd_args: the one command-line parser, driven by a command's cli_cmd_entry (cmd_entry.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cmd_entry.h"
#include "cli/common.h"

/* The options of e in key order: opts, then shared_opts. Returns how many (at most max). */
static size_t all_opts(const cli_cmd_entry *e, const cli_opt **out, size_t max)
{
    size_t n = 0;
    const cli_opt *sets[2] = {e->opts, e->shared_opts};
    for (int s = 0; s < 2; s++)
        for (const cli_opt *o = sets[s]; o && o->names; o++) {
            if (n == max) {
                fprintf(stderr, "retirectl: command '%s' declares more than %zu options\n", e->name, max);
                abort();
            }
            out[n++] = o;
        }
    return n;
}

void cli_entry_each_opt(const cli_cmd_entry *e, void (*fn)(const cli_opt *o, void *ctx), void *ctx)
{
    const cli_opt *opts[CLI_MAX_OPTS];
    size_t n = all_opts(e, opts, CLI_MAX_OPTS);
    for (size_t i = 0; i < n; i++) fn(opts[i], ctx);
}

/* Non-zero when the n bytes of a and b match, with '-' and '_' alike. */
static int same_name(const char *a, const char *b, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        char x = a[k] == '_' ? '-' : a[k], y = b[k] == '_' ? '-' : b[k];
        if (x != y) return 0;
    }
    return 1;
}

/* Non-zero when name is one of the '|'-separated words of list. */
static int in_list(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, "|");
        if (n == len && strncmp(p, name, n) == 0) return 1;
        p += n + (p[n] == '|');
    }
    return 0;
}

int cli_entry_named(const cli_cmd_entry *e, const char *name)
{
    return strcmp(e->name, name) == 0 || in_list(e->aliases, name);
}

/* How arg names option o: 0 not at all; 1 exactly; 2 with "=VALUE" (*inline_value set);
 * 3 a short option with its value attached ("-j4"). */
static int names_option(const cli_opt *o, const char *arg, const char **inline_value)
{
    for (const char *p = o->names; *p;) {
        size_t n = strcspn(p, "|");
        if (n > 2 && p[1] == '-') {
            if (strlen(arg) >= n && same_name(arg, p, n)) {
                if (arg[n] == '\0') return 1;
                if (arg[n] == '=') {
                    *inline_value = arg + n + 1;
                    return 2;
                }
            }
        } else if (n == 2 && strncmp(arg, p, 2) == 0) {
            if (arg[2] == '\0') return 1;
            if (o->meta) {
                *inline_value = arg + 2;
                return 3;
            }
        }
        p += n + (p[n] == '|');
    }
    return 0;
}

/* The option's first spelling ("--config_file" of "--config_file|--config") into out. */
static const char *key_of(const cli_opt *o, char *out, size_t len)
{
    snprintf(out, len, "%.*s", (int)strcspn(o->names, "|"), o->names);
    return out;
}

int cli_bool_word(const char *v)
{
    static const char *const yes[] = {"1", "true", "t", "yes", "y", "on"};
    static const char *const no[] = {"0", "false", "f", "no", "n", "off"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (!strcasecmp(v, yes[i])) return 1;
        if (!strcasecmp(v, no[i])) return 0;
    }
    return -1;
}

size_t cli_entry_positionals(const cli_cmd_entry *e, size_t *min, size_t *max, char names[][48])
{
    size_t slots = 0;
    *min = *max = 0;
    int depth = 0;
    for (const char *p = e->args; p && *p;) {
        p += strspn(p, " ");
        size_t n = strcspn(p, " ");
        if (!n) break;
        const char *b = p, *end = p + n;
        while (b < end && *b == '[') depth++, b++;
        int optional = depth > 0, many = 0;
        while (end > b && (end[-1] == ']' || end[-1] == '.')) {
            if (end[-1] == ']') depth--;
            else many = 1;
            end--;
        }
        if (names && slots < CLI_MAX_ARGS) snprintf(names[slots], 48, "%.*s", (int)(end - b), b);
        slots++;
        if (!optional) (*min)++;
        *max = many || *max == CLI_MAX_ARGS ? CLI_MAX_ARGS : *max + 1;
        p += n;
    }
    return slots < CLI_MAX_ARGS ? slots : CLI_MAX_ARGS;
}

/* "retirectl NAME" for messages ("retirectl" for the global options). */
static const char *label(const cli_cmd_entry *e)
{
    static char buf[96];
    snprintf(buf, sizeof buf, "retirectl%s%s", *e->name ? " " : "", e->name);
    return buf;
}

static int usage_error(const cli_cmd_entry *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The command line's mistake in one line on stderr, pointing at the command's --help. Callers
 * pass what came from the command line through cli_inert_tmp. */
static int usage_error(const cli_cmd_entry *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", label(e));
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see %s --help)\n", label(e));
    return CLI_EXIT_USAGE;
}

/* Reads the option o at argv[*i] (matched as how, see names_option) into slot k of a. */
static int take_option(const cli_cmd_entry *e, const cli_opt *o, int how, const char *inline_value, int argc,
                       char **argv, int *i, size_t k, cli_args *a)
{
    char key[64];
    key_of(o, key, sizeof key);
    if (o->flags & CLI_OPT_BOOL) {
        const char *v = how == 2 ? inline_value : (*i + 1 < argc && cli_bool_word(argv[*i + 1]) >= 0) ? argv[++*i] : "true";
        int truth = cli_bool_word(v);
        if (truth < 0) return usage_error(e, "%s takes true or false, not '%s'", key, cli_inert_tmp(v));
        a->count[k] = truth;
        a->value[k] = v;
        return -1;
    }
    if (!o->meta) {
        if (how == 2) return usage_error(e, "%s takes no value ('%s' given)", key, cli_inert_tmp(inline_value));
        a->count[k]++;
        return -1;
    }
    const char *v = inline_value;
    if (how == 1) {
        if (*i + 1 >= argc) return usage_error(e, "%s needs a value", key);
        v = argv[++*i];
    }
    if (strchr(o->meta, '|') && !in_list(o->meta, v)) {
        char choices[256];
        snprintf(choices, sizeof choices, "%s", o->meta);
        for (char *c = choices; *c; c++)
            if (*c == '|') *c = ',';
        return usage_error(e, "%s takes one of %s, not '%s'", key, choices, cli_inert_tmp(v));
    }
    if (o->flags & CLI_OPT_MANY) {
        if (a->n_many == CLI_MAX_ARGS) return usage_error(e, "%s given too often (at most %d)", key, CLI_MAX_ARGS);
        a->many_slot[a->n_many] = k;
        a->many[a->n_many++] = v;
    }
    a->value[k] = v;
    a->count[k]++;
    return -1;
}

/* Gives option o (slot k) its env variable's value when the line did not give it: a flag or a
 * boolean counts as given when the value is a true word (cli_bool_word). */
static void from_env(const cli_opt *o, size_t k, cli_args *a)
{
    const char *v = o->env && !a->value[k] && !a->count[k] ? getenv(o->env) : NULL;
    if (!v || !*v) return;
    a->value[k] = v;
    a->count[k] = o->meta ? 1 : cli_bool_word(v) == 1;
}

/* The entry that parses argv: e's variant when its flag is on the line. */
static const cli_cmd_entry *pick_entry(const cli_cmd_entry *e, int argc, char **argv)
{
    if (!e->variant) return e;
    size_t n = strlen(e->variant_flag);
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (strlen(argv[i]) == n && same_name(argv[i], e->variant_flag, n)) return e->variant;
    return e;
}

/* The shared loop: options and positionals of argv[first..); stops at the first positional
 * (or a CLI_OPT_STOP option) when stop_at_arg is set, with *next its index. */
static int parse(const cli_cmd_entry *e, int argc, char **argv, int first, int stop_at_arg, cli_args *a, int *next)
{
    const cli_opt *opts[CLI_MAX_OPTS];
    size_t n_opts = all_opts(e, opts, CLI_MAX_OPTS), min, max;
    char names[CLI_MAX_ARGS][48];
    cli_entry_positionals(e, &min, &max, names);
    int only_args = 0, i = first;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_args && arg[0] == '-' && arg[1]) {
            if (strcmp(arg, "--") == 0) {
                only_args = 1;
                continue;
            }
            const char *inline_value = NULL;
            size_t k = 0;
            int how = 0;
            for (; k < n_opts && !(how = names_option(opts[k], arg, &inline_value)); k++) {}
            if (!how) return usage_error(e, "unknown option '%s'", cli_inert_tmp(arg));
            if (stop_at_arg && (opts[k]->flags & CLI_OPT_STOP)) break;
            int rc = take_option(e, opts[k], how, inline_value, argc, argv, &i, k, a);
            if (rc >= 0) return rc;
            continue;
        }
        if (stop_at_arg) break;
        if (a->n_args < max) {
            a->arg[a->n_args++] = arg;
            continue;
        }
        if (max == 1 && strcmp(names[0], "USER") == 0) {
            fprintf(stderr, "%s: one learner at a time ('%s' and '%s' given)%s\n", label(e),
                    cli_inert_tmp(a->arg[0]), cli_inert_tmp(arg), e->args_hint ? e->args_hint : "");
            return CLI_EXIT_USAGE;
        }
        return usage_error(e, "unexpected argument '%s'%s", cli_inert_tmp(arg), e->args_hint ? e->args_hint : "");
    }
    if (next) *next = i;
    for (size_t k = 0; k < n_opts; k++) from_env(opts[k], k, a);
    if (!stop_at_arg && a->n_args < min) {
        return usage_error(e, "%s missing%s", names[a->n_args], e->args_hint ? e->args_hint : "");
    }
    return -1;
}

int cli_args_parse(const cli_cmd_entry *e, int argc, char **argv, cli_args *a)
{
    memset(a, 0, sizeof *a);
    e = pick_entry(e, argc, argv);
    a->entry = e;
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_entry_help(e, stdout);
            return 0;
        }
    return parse(e, argc, argv, 1, 0, a, NULL);
}

int cli_args_parse_globals(int argc, char **argv, cli_args *a, int *next)
{
    memset(a, 0, sizeof *a);
    a->entry = &cli_global_entry;
    return parse(&cli_global_entry, argc, argv, 1, 1, a, next);
}

int cli_entry_run(const cli_cmd_entry *e, int argc, char **argv, const cli_globals *g)
{
    cli_args a;
    int rc = cli_args_parse(e, argc, argv, &a);
    if (rc >= 0) return rc;
    return a.entry->exec(&a, g);
}

/* The slot of key in a's entry; a key the entry does not declare aborts (a programming error). */
static size_t slot_of(const cli_args *a, const char *key)
{
    const cli_opt *opts[CLI_MAX_OPTS];
    size_t n = all_opts(a->entry, opts, CLI_MAX_OPTS);
    char k[64];
    for (size_t i = 0; i < n; i++)
        if (strcmp(key_of(opts[i], k, sizeof k), key) == 0) return i;
    fprintf(stderr, "retirectl: internal error: command '%s' has no option %s\n", a->entry->name, key);
    abort();
}

const char *cli_args_get(const cli_args *a, const char *key) { return a->value[slot_of(a, key)]; }

int cli_args_has(const cli_args *a, const char *key) { return a->count[slot_of(a, key)]; }

int cli_args_long(const cli_args *a, const char *key, long fallback, long *out)
{
    const char *v = cli_args_get(a, key);
    if (!v) {
        *out = fallback;
        return 0;
    }
    return cli_parse_long(key, v, out);
}

size_t cli_args_all(const cli_args *a, const char *key, const char **out, size_t max)
{
    size_t slot = slot_of(a, key), n = 0;
    for (size_t i = 0; i < a->n_many && n < max; i++)
        if (a->many_slot[i] == slot) out[n++] = a->many[i];
    return n;
}

const char *cli_args_arg(const cli_args *a, size_t i) { return i < a->n_args ? a->arg[i] : NULL; }
