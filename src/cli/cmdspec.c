/* cmdspec: a command's options and positionals, read from its --help text (see cmdspec.h). */
#include "cli/cmdspec.h"

#include <stdio.h>
#include <string.h>

#define MAX_TOKENS 64

typedef struct token {
    char text[128]; /* without the brackets, parentheses, commas and "..." around it */
    int opens;      /* the raw token started with '[' or '(' */
    int closes;     /* the raw token ended with ']' or ')' */
} token;

/* ASCII tests: help text is ASCII and the locale must not change the outcome. */
static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int is_alpha(char c) { return is_upper(c) || (c >= 'a' && c <= 'z'); }

/* Splits text (up to len bytes) at blanks into cleaned tokens; returns how many. */
static size_t tokenize(const char *text, size_t len, token *out, size_t max)
{
    size_t n = 0, i = 0;
    while (i < len && n < max) {
        while (i < len && (text[i] == ' ' || text[i] == '\t')) i++;
        size_t start = i;
        while (i < len && text[i] != ' ' && text[i] != '\t') i++;
        if (i == start) break;
        const char *b = text + start, *e = text + i;
        token *t = &out[n];
        t->opens = *b == '[' || *b == '(';
        while (b < e && (*b == '[' || *b == '(')) b++;
        t->closes = 0;
        for (;;) {
            if (e - b >= 3 && strncmp(e - 3, "...", 3) == 0) e -= 3;
            else if (e > b && (e[-1] == ']' || e[-1] == ')')) e--, t->closes = 1;
            else if (e > b && e[-1] == ',') e--;
            else break;
        }
        if (e == b) continue;
        snprintf(t->text, sizeof t->text, "%.*s", (int)(e - b), b);
        n++;
    }
    return n;
}

static int is_option(const char *s)
{
    return s[0] == '-' && (s[1] == '-' ? is_alpha(s[2]) : is_alpha(s[1]) && !s[2]);
}

/* Non-zero when t can be an option's META (FILE, N, a|b). */
static int is_meta(const token *t)
{
    return !is_option(t->text) && strcmp(t->text, "|") != 0 && (is_upper(t->text[0]) || strchr(t->text, '|'));
}

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

/* Adds option name (with its META or NULL) unless s has it; a later META fills a flag's. */
static void add_option(cmdspec *s, const char *name, const char *meta)
{
    for (size_t i = 0; i < s->n_opts; i++) {
        cmdspec_arg *a = &s->opts[i];
        if (strcmp(a->name, name) != 0) continue;
        if (a->kind == CMDSPEC_FLAG && meta) a->kind = cmdspec_kind_of(name, meta, a->words, sizeof a->words);
        return;
    }
    if (s->n_opts >= sizeof s->opts / sizeof s->opts[0]) return;
    cmdspec_arg *a = &s->opts[s->n_opts++];
    snprintf(a->name, sizeof a->name, "%.*s", (int)sizeof a->name - 1, name);
    a->kind = cmdspec_kind_of(name, meta, a->words, sizeof a->words);
}

/* Adds the options of tokens t[0..n): each option takes the next token as META when it is one
 * and the option's own bracket did not close ("[--json] USER" is a flag). Stops at "(see". */
static void add_options(cmdspec *s, const token *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strncmp(t[i].text, "see", 3) == 0 && t[i].opens) return;
        char name[128];
        snprintf(name, sizeof name, "%s", t[i].text);
        char *eq = strchr(name, '=');
        if (eq) *eq = '\0';
        if (!is_option(name)) continue;
        const char *meta = eq ? eq + 1 : NULL;
        if (!meta && !t[i].closes && i + 1 < n && is_meta(&t[i + 1]) && !t[i + 1].opens) meta = t[++i].text;
        add_option(s, name, meta);
    }
}

/* A usage line: the tokens after "retirectl ... NAME"; the first one also gives positionals. */
static void scan_usage(cmdspec *s, const char *name, const char *line, int first)
{
    token t[MAX_TOKENS];
    size_t n = tokenize(line, strlen(line), t, MAX_TOKENS), k = 0;
    while (k < n && strcmp(t[k].text, "retirectl") != 0) k++;
    while (k < n && strcmp(t[k].text, name) != 0) k++;
    if (k++ >= n) return;
    for (size_t i = k; first && i < n && !t[i].opens && !is_option(t[i].text); i++) {
        if (s->n_pos >= sizeof s->pos / sizeof s->pos[0]) break;
        cmdspec_arg *a = &s->pos[s->n_pos++];
        snprintf(a->name, sizeof a->name, "%.*s", (int)sizeof a->name - 1, t[i].text);
        a->kind = cmdspec_kind_of(NULL, t[i].text, a->words, sizeof a->words);
    }
    add_options(s, t + k, n - k);
}

/* An option line: its term (up to two blanks) when it starts with an option or "USER, -". */
static void scan_option_line(cmdspec *s, const char *line)
{
    const char *gap = strstr(line, "  ");
    size_t len = gap ? (size_t)(gap - line) : strlen(line);
    token t[MAX_TOKENS];
    size_t n = tokenize(line, len, t, MAX_TOKENS);
    size_t first_len = strcspn(line, " \t");
    int starts = n && (is_option(t[0].text) || (n > 1 && first_len && line[first_len - 1] == ',' && is_option(t[1].text)));
    if (starts) add_options(s, t, n);
}

void cmdspec_scan(cmdspec *s, const char *name, const char *help)
{
    int in_usage = 0, seen_usage = 0;
    for (const char *p = help; p && *p;) {
        size_t len = strcspn(p, "\n");
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)len, p);
        p += len + (p[len] == '\n');
        const char *body = line + strspn(line, " \t");
        if (strncmp(line, "usage:", 6) == 0) {
            in_usage = 1;
            if (name) scan_usage(s, name, line + 6, !seen_usage);
            seen_usage = 1;
        } else if (in_usage && body != line && *body) {
            if (!name) continue;
            if (strncmp(body, "retirectl ", 10) == 0) scan_usage(s, name, body, 0);
            else {
                token t[MAX_TOKENS];
                add_options(s, t, tokenize(body, strlen(body), t, MAX_TOKENS));
            }
        } else {
            in_usage = 0;
            if (body != line && *body) scan_option_line(s, body);
        }
    }
}
