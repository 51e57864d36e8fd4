/* cmd_help: `retirectl NAME --help`, written from the command's cli_cmd_entry (cmd_entry.h). */
#include <stdio.h>
#include <string.h>

#include "cli/cmd_entry.h"
#include "common/roff.h"
#include "common/strbuf.h"

#define HELP_WIDTH 100 /* usage lines wrap here */
#define TERM_MAX 30    /* an option term wider than this puts its description on the next line */

/* Appends word to the usage line being written (col: the current column), wrapping under indent. */
static void put_word(FILE *out, const char *word, int *col, int indent)
{
    int len = (int)strlen(word);
    if (*col + 1 + len > HELP_WIDTH && *col > indent) {
        fprintf(out, "\n%*s", indent, "");
        *col = indent;
    } else {
        fputc(' ', out);
        (*col)++;
    }
    fputs(word, out);
    *col += len;
}

typedef struct usage_ctx {
    FILE *out;
    int col, indent;
} usage_ctx;

/* Adds "[--opt META]" for o to the usage line. */
static void usage_opt(const cli_opt *o, void *ctx)
{
    usage_ctx *u = ctx;
    if (!cli_opt_shown(o) || (o->flags & CLI_OPT_NO_USAGE)) return;
    char word[160];
    int n = (int)strcspn(o->names, "|");
    if (o->meta) snprintf(word, sizeof word, "[%.*s %s]", n, o->names, o->meta);
    else snprintf(word, sizeof word, "[%.*s]", n, o->names);
    put_word(u->out, word, &u->col, u->indent);
}

void cli_entry_usage(const cli_cmd_entry *e, FILE *out)
{
    usage_ctx u = {out, 0, 0};
    fprintf(out, "usage: retirectl %s", e->name);
    u.col = (int)strlen("usage: retirectl ") + (int)strlen(e->name);
    u.indent = (int)strlen("usage: retirectl ");
    char args[256];
    snprintf(args, sizeof args, "%s", e->args ? e->args : "");
    for (char *w = strtok(args, " "); w; w = strtok(NULL, " ")) put_word(out, w, &u.col, u.indent);
    cli_entry_each_opt(e, usage_opt, &u);
    fputc('\n', out);
    for (const char *p = e->more_usage; p && *p;) {
        size_t n = strcspn(p, "\n");
        fprintf(out, "       %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

/* The term of o in the options list: "-j, --jobs N" (visible spellings, then META). */
static void term_of(const cli_opt *o, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = o->names; *p && used < len;) {
        size_t n = strcspn(p, "|");
        used += (size_t)snprintf(out + used, len - used, "%s%.*s", used ? ", " : "", (int)n, p);
        p += n + (p[n] == '|');
    }
    if (o->meta && used < len) snprintf(out + used, len - used, " %s", o->meta);
}

typedef struct opts_ctx {
    FILE *out;
    int column;  /* where descriptions start */
    int visible; /* options the list shows */
} opts_ctx;

/* Counts o and widens the description column to fit its term (up to TERM_MAX). */
static void measure_opt(const cli_opt *o, void *ctx)
{
    opts_ctx *c = ctx;
    if (!cli_opt_shown(o)) return;
    c->visible++;
    char term[160];
    term_of(o, term, sizeof term);
    int w = 2 + (int)strlen(term) + 2;
    if (w <= TERM_MAX + 4 && w > c->column) c->column = w;
}

/* One option of the list: the term, then its description (continuation lines aligned). */
static void print_opt(const cli_opt *o, void *ctx)
{
    opts_ctx *c = ctx;
    if (!cli_opt_shown(o)) return;
    char term[160];
    term_of(o, term, sizeof term);
    int w = fprintf(c->out, "  %s", term);
    if (w + 2 > c->column) fprintf(c->out, "\n%*s", c->column, "");
    else fprintf(c->out, "%*s", c->column - w, "");
    int line = 0; /* the width of the description's last line */
    for (const char *p = o->help ? o->help : ""; *p;) {
        size_t n = strcspn(p, "\n");
        line = fprintf(c->out, "%.*s", (int)n, p);
        p += n;
        if (*p == '\n' && *++p) fprintf(c->out, "\n%*s", c->column, "");
    }
    if (o->env) { /* " (else $NAME)", on a line of its own when it would pass HELP_WIDTH */
        int more = (int)strlen(o->env) + 9;
        if (line && c->column + line + more > HELP_WIDTH) fprintf(c->out, "\n%*s", c->column - 1, "");
        fprintf(c->out, " (else $%s)", o->env);
    }
    fputc('\n', c->out);
}

/* Prints heading and the options list of e, or nothing when e shows no option. */
static void print_options(const cli_cmd_entry *e, FILE *out, const char *heading)
{
    opts_ctx c = {out, 0, 0};
    cli_entry_each_opt(e, measure_opt, &c);
    if (!c.visible) return;
    if (!c.column) c.column = TERM_MAX + 4; /* every term is wide: descriptions on their own lines */
    fputs(heading, out);
    cli_entry_each_opt(e, print_opt, &c);
}

void cli_entry_options(const cli_cmd_entry *e, FILE *out) { print_options(e, out, ""); }

/* Prints text, then a newline unless it ends with one. */
static void put_block(FILE *out, const char *text)
{
    size_t n = strlen(text);
    fputs(text, out);
    if (n && text[n - 1] != '\n') fputc('\n', out);
}

void cli_entry_help(const cli_cmd_entry *e, FILE *out)
{
    cli_entry_usage(e, out);
    if (e->about) {
        fputc('\n', out);
        put_block(out, e->about);
    }
    print_options(e, out, "\nOptions:\n");
    if (e->variant) fprintf(out, "\n`retirectl %s --help` describes the %s form.\n", e->variant->name, e->variant->name);
    if (e->epilogue) {
        fputc('\n', out);
        put_block(out, e->epilogue);
    }
}

/* The .TP entry of one option: its spellings in bold, META in italics, the description. */
static void man_opt(const cli_opt *o, void *ctx)
{
    strbuf *sb = ctx;
    if (!cli_opt_shown(o)) return;
    sb_add(sb, ".TP\n");
    for (const char *p = o->names; *p;) {
        size_t n = strcspn(p, "|");
        sb_add(sb, p == o->names ? "\\fB" : ", \\fB");
        roff_add(sb, p, n);
        sb_add(sb, "\\fR");
        p += n + (p[n] == '|');
    }
    if (o->meta) {
        sb_add(sb, " \\fI");
        roff_add(sb, o->meta, strlen(o->meta));
        sb_add(sb, "\\fR");
    }
    sb_addc(sb, '\n');
    const char *help = o->help ? o->help : "";
    roff_add(sb, help, strlen(help));
    if (o->env) sb_addf(sb, " (else \\fB$%s\\fR)", o->env);
    sb_addc(sb, '\n');
}

void cli_entry_man_options(const cli_cmd_entry *e, FILE *out)
{
    strbuf sb = STRBUF_INIT;
    cli_entry_each_opt(e, man_opt, &sb);
    fputs(sb_str(&sb), out);
    sb_free(&sb);
}

/* Appends the positionals template for roff: names in italics, brackets and bars roman. */
static void man_args(strbuf *sb, const char *args)
{
    for (const char *p = args; p && *p;) {
        size_t delims = strspn(p, " []|");
        if (delims) {
            sb_addn(sb, p, delims);
            p += delims;
            continue;
        }
        size_t n = strcspn(p, " []|");
        sb_add(sb, "\\fI");
        roff_add(sb, p, n);
        sb_add(sb, "\\fR");
        p += n;
    }
}

void cli_entry_man(const cli_cmd_entry *e, FILE *out)
{
    strbuf sb = STRBUF_INIT;
    sb_add(&sb, ".TP\n\\fB");
    roff_add(&sb, e->name, strlen(e->name));
    sb_add(&sb, "\\fR");
    if (e->args) {
        sb_addc(&sb, ' ');
        man_args(&sb, e->args);
    }
    sb_addc(&sb, '\n');
    roff_add(&sb, e->summary, strlen(e->summary));
    sb_add(&sb, ".\n");
    for (const char *p = e->about; p && *p;) { /* the about text, a blank line as .sp */
        size_t n = strcspn(p, "\n");
        sb_add(&sb, n ? (p == e->about ? ".br\n" : "") : ".sp\n");
        roff_add(&sb, p, n);
        if (n) sb_addc(&sb, '\n');
        p += n + (p[n] == '\n');
    }
    sb_add(&sb, ".RS\n");
    cli_entry_each_opt(e, man_opt, &sb);
    sb_add(&sb, ".RE\n");
    fputs(sb_str(&sb), out);
    sb_free(&sb);
    if (e->variant) cli_entry_man(e->variant, out);
}
