/* cmd_help: `retirectl NAME --help`, written from the command's cli_cmd_entry (cmd_entry.h). */
#include <stdio.h>
#include <string.h>

#include "cli/cmd_entry.h"

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
    if (o->flags & (CLI_OPT_HIDDEN | CLI_OPT_NO_USAGE | CLI_OPT_STOP)) return;
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
    int column; /* where descriptions start */
    int shown;  /* options listed so far */
} opts_ctx;

/* Widens the description column to fit o's term (up to TERM_MAX). */
static void measure_opt(const cli_opt *o, void *ctx)
{
    opts_ctx *c = ctx;
    if (o->flags & (CLI_OPT_HIDDEN | CLI_OPT_STOP)) return;
    char term[160];
    term_of(o, term, sizeof term);
    int w = 2 + (int)strlen(term) + 2;
    if (w <= TERM_MAX + 4 && w > c->column) c->column = w;
}

/* One option of the list: the term, then its description (continuation lines aligned). */
static void print_opt(const cli_opt *o, void *ctx)
{
    opts_ctx *c = ctx;
    if (o->flags & (CLI_OPT_HIDDEN | CLI_OPT_STOP)) return;
    char term[160];
    term_of(o, term, sizeof term);
    int w = fprintf(c->out, "  %s", term);
    if (w + 2 > c->column) fprintf(c->out, "\n%*s", c->column, "");
    else fprintf(c->out, "%*s", c->column - w, "");
    for (const char *p = o->help ? o->help : ""; *p;) {
        size_t n = strcspn(p, "\n");
        fprintf(c->out, "%.*s", (int)n, p);
        p += n;
        if (*p == '\n' && *++p) fprintf(c->out, "\n%*s", c->column, "");
    }
    fputc('\n', c->out);
    c->shown++;
}

/* Prints the options list of e (nothing when it has none shown). */
void cli_entry_options(const cli_cmd_entry *e, FILE *out)
{
    opts_ctx c = {out, 0, 0};
    cli_entry_each_opt(e, measure_opt, &c);
    if (!c.column) return;
    cli_entry_each_opt(e, print_opt, &c);
}

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
    opts_ctx c = {out, 0, 0};
    cli_entry_each_opt(e, measure_opt, &c);
    if (c.column) {
        fputs("\nOptions:\n", out);
        cli_entry_each_opt(e, print_opt, &c);
    }
    if (e->variant) fprintf(out, "\n`retirectl %s --help` describes the %s form.\n", e->variant->name, e->variant->name);
    if (e->epilogue) {
        fputc('\n', out);
        put_block(out, e->epilogue);
    }
}

/* Writes text for roff: `-` as `\-` (a real hyphen-minus), `\` as `\e`, and a line that would
 * start with '.' or '\'' guarded with `\&`. */
static void put_roff(FILE *out, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if ((i == 0 || text[i - 1] == '\n') && (c == '.' || c == '\'') && len > 1) fputs("\\&", out);
        if (c == '-') fputs("\\-", out);
        else if (c == '\\') fputs("\\e", out);
        else fputc(c, out);
    }
}

static void put_roff_str(FILE *out, const char *text) { put_roff(out, text, strlen(text)); }

/* The .TP entry of one option: its spellings in bold, META in italics, the description. */
static void man_opt(const cli_opt *o, void *ctx)
{
    FILE *out = ctx;
    if (o->flags & (CLI_OPT_HIDDEN | CLI_OPT_STOP)) return;
    fputs(".TP\n", out);
    int first = 1;
    for (const char *p = o->names; *p; first = 0) {
        size_t n = strcspn(p, "|");
        fputs(first ? "\\fB" : ", \\fB", out);
        put_roff(out, p, n);
        fputs("\\fR", out);
        p += n + (p[n] == '|');
    }
    if (o->meta) {
        fputs(" \\fI", out);
        put_roff_str(out, o->meta);
        fputs("\\fR", out);
    }
    fputc('\n', out);
    put_roff_str(out, o->help ? o->help : "");
    fputc('\n', out);
}

void cli_entry_man_options(const cli_cmd_entry *e, FILE *out) { cli_entry_each_opt(e, man_opt, out); }

void cli_entry_man(const cli_cmd_entry *e, FILE *out)
{
    fputs(".TP\n\\fB", out);
    put_roff_str(out, e->name);
    fputs("\\fR", out);
    char args[256];
    snprintf(args, sizeof args, "%s", e->args ? e->args : "");
    for (char *w = strtok(args, " "); w; w = strtok(NULL, " ")) { /* names in italics, [ ] | roman */
        fputc(' ', out);
        int italic = 0;
        for (const char *c = w; *c; c++) {
            int delim = *c == '[' || *c == ']' || *c == '|';
            if (delim == italic) fputs(delim ? "\\fR" : "\\fI", out), italic = !delim;
            put_roff(out, c, 1);
        }
        if (italic) fputs("\\fR", out);
    }
    fputc('\n', out);
    put_roff_str(out, e->summary);
    fputs(".\n", out);
    for (const char *p = e->about; p && *p;) { /* the about text, a blank line as .sp */
        size_t n = strcspn(p, "\n");
        fputs(n ? (p == e->about ? ".br\n" : "") : ".sp\n", out);
        put_roff(out, p, n);
        if (n) fputc('\n', out);
        p += n + (p[n] == '\n');
    }
    fputs(".RS\n", out);
    cli_entry_man_options(e, out);
    fputs(".RE\n", out);
    if (e->variant) cli_entry_man(e->variant, out);
}
