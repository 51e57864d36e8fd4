/* Console drawing primitives and the parts of the screen every view shares: status bar,
 * message line, help. */
#include "ui/console_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "ui/keys.h"
#include "ui/text.h"
#include "common/clock.h"
#include "common/xalloc.h"

double ui_now_ms(void)
{
    return clk_mono_ms();
}

void ui_msg(ui_role role, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char raw[1024];
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    ui_text_flatten(raw);
    char *clean = ui_text_sanitize(raw, (size_t)-1);
    snprintf(ui_con.message, sizeof ui_con.message, "%s", clean);
    ui_msg_remember(role, clean);
    free(clean);
    ui_con.message_role = role;
    ui_con.message_until = ui_now_ms() + 8000;
    ui_con.dirty = 1;
}

int ui_edit_field(char *text, size_t size, int ch)
{
    size_t len = strlen(text);
    if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        if (len) {
            do len--; while (len && ((unsigned char)text[len] & 0xC0) == 0x80);
            text[len] = '\0';
        }
        return 1;
    }
    if (ch >= 32 && ch < 256 && ch != 127 && len + 1 < size) {
        text[len] = (char)ch;
        text[len + 1] = '\0';
        return 1;
    }
    return 0;
}

/* Draws sanitized-or-raw text at y,x fitted to width cells (sanitizing it first). */
void ui_put(int y, int x, int width, ui_role role, const char *text, int pad)
{
    if (width <= 0 || y < 0 || x < 0 || y >= LINES || x >= COLS) return;
    if (x + width > COLS) width = COLS - x;
    char *clean = ui_text_sanitize(text ? text : "", (size_t)-1);
    char buf[4096];
    ui_text_fit(clean, width, pad, buf, sizeof buf);
    free(clean);
    attrset(ui_con.attr[role]);
    mvaddstr(y, x, buf);
    attrset(ui_con.attr[UR_NORMAL]);
}

void ui_fill_row(int y, ui_role role)
{
    if (y < 0 || y >= LINES) return;
    attrset(ui_con.attr[role]);
    mvhline(y, 0, ' ', COLS);
    attrset(ui_con.attr[UR_NORMAL]);
}

void ui_tlog(const char *fmt, ...)
{
    if (!ui_con.trace) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(ui_con.trace, fmt, ap);
    va_end(ap);
    fflush(ui_con.trace);
}

void ui_draw_status(const ui_screen_layout *L)
{
    ui_fill_row(L->status_row, UR_STATUS);
    int x = 0;
    char buf[400];
    snprintf(buf, sizeof buf, " %s ", ui_con.env[0] ? ui_con.env : "no environment");
    int w = ui_text_width(buf);
    ui_put(L->status_row, x, w, ui_con.production ? UR_PRODUCTION : UR_STATUS, buf, 0);
    x += w;
    size_t run = ui_running_jobs();
    char when[32] = "never";
    if (ui_con.last_refresh_wall) {
        struct tm tm;
        localtime_r(&ui_con.last_refresh_wall, &tm);
        strftime(when, sizeof when, "%H:%M:%S", &tm);
    }
    int plans = 0;
    for (size_t i = 0; i < ui_con.n_jobs; i++) plans += ui_con.jobs[i]->dry_run && !ui_con.jobs[i]->exited;
    /* the flags on the right are never the part cut: the middle shortens to fit beside them */
    char err[64] = "";
    if (ui_con.fetch_error[0]) {
        double left = (ui_con.next_refresh_ms - ui_now_ms()) / 1000.0;
        if (ui_con.fetch_pid > 0 || left <= 0) snprintf(err, sizeof err, " LMS ERROR: retrying ");
        else snprintf(err, sizeof err, " LMS ERROR: retry in %.0fs ", left + 0.499);
    }
    int flags = (ui_con.o->read_only ? 11 : 0) + (plans ? 9 : 0) + (int)strlen(err) + 2;
    char queued[48] = "";
    if (ui_con.n_queue)
        snprintf(queued, sizeof queued, " +%zu queued%s", ui_con.n_queue, *ui_queue_stopped() ? " (stopped)" : "");
    char due[48] = ""; /* completed retirements `retirectl cleanup` would archive and delete */
    if (ui_con.cleanup_due) snprintf(due, sizeof due, "| %zu due for cleanup ", ui_con.cleanup_due);
    /* given up in this order as the width shrinks: the host, the word "refreshed", the cleanup count */
    for (int form = 0; form < 4; form++) {
        int n; /* a longer text is cut to buf: the status bar is cut to the screen anyway */
        if (form == 0)
            n = snprintf(buf, sizeof buf, " %s | jobs %zu%s | refreshed %s %s", ui_con.host, run, queued, when, due);
        else if (form == 1) n = snprintf(buf, sizeof buf, " jobs %zu%s | refreshed %s %s", run, queued, when, due);
        else if (form == 2) n = snprintf(buf, sizeof buf, " jobs %zu%s | %s %s", run, queued, when, due);
        else n = snprintf(buf, sizeof buf, " jobs %zu%s | %s ", run, queued, when);
        if (n >= 0 && x + ui_text_width(buf) + flags <= COLS) break;
    }
    w = ui_text_width(buf);
    ui_put(L->status_row, x, COLS - x, UR_STATUS, buf, 0);
    x += w;
    if (ui_con.o->read_only && x < COLS) {
        ui_put(L->status_row, x, COLS - x, UR_WARNING, " READ-ONLY ", 0);
        x += 11;
    }
    if (plans && x < COLS) {
        ui_put(L->status_row, x, COLS - x, UR_DRY_RUN, " DRY-RUN ", 0);
        x += 9;
    }
    if (err[0] && x < COLS) { /* says when the next try is, so a quick failing retry is not invisible */
        ui_put(L->status_row, x, COLS - x, UR_FAILED, err, 0);
        x += (int)strlen(err);
    }
    int busy = ui_con.fetch_pid > 0 || ui_con.status_pid > 0 || ui_con.drivers_pid > 0 || run > 0;
    if (busy && COLS > 2) {
        static const char spin[] = "|/-\\";
        char b[4] = {spin[ui_con.spin % 4], 0};
        ui_put(L->status_row, COLS - 2, 1, UR_BUSY, b, 0);
    }
}

void ui_draw_message(const ui_screen_layout *L)
{
    int y = L->message_row;
    move(y, 0);
    clrtoeol();
    if (ui_con.filter_editing || ui_con.log_search_editing || ui_con.cmd_editing) {
        char buf[400];
        snprintf(buf, sizeof buf, "%c%s", ui_con.cmd_editing ? ':' : '/',
                 ui_con.filter_editing ? ui_con.filter : ui_con.cmd_editing ? ui_con.cmd : ui_con.log_search);
        ui_put(y, 0, COLS - 1, UR_DIALOG, buf, 0);
        return;
    }
    if (ui_con.message[0] && ui_now_ms() < ui_con.message_until) {
        ui_put(y, 0, COLS, ui_con.message_role, ui_con.message, 0);
        return;
    }
    if (ui_con.fetch_error[0]) {
        ui_put(y, 0, COLS, UR_FAILED, ui_con.fetch_error, 0);
        return;
    }
    char why[800];
    if (ui_view()->pipeline_banner && ui_pipeline_problem(why, sizeof why)) { /* a banner until it is fixed */
        char banner[900];
        snprintf(banner, sizeof banner, "THE PIPELINE CANNOT RUN (d shows the drivers): %s", why);
        ui_put(y, 0, COLS, UR_FAILED, banner, 0);
        return;
    }
    const char *hint = ui_con.o->read_only ? ui_view()->hint_read_only : ui_view()->hint;
    char buf[512];
    if (ui_con.filter[0]) snprintf(buf, sizeof buf, "[filter: %s]", ui_con.filter);
    else buf[0] = '\0';
    /* whole hints only: the ones that do not fit are left out (? help is always first) */
    size_t used = strlen(buf);
    for (const char *p = hint; *p && used < sizeof buf - 1;) {
        const char *e = strstr(p, "  ");
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char item[128];
        snprintf(item, sizeof item, "%s%.*s", used ? "  " : "", (int)len, p);
        size_t item_len = strlen(item);
        if (used + item_len >= sizeof buf) break;
        char tmp[sizeof buf];
        memcpy(tmp, buf, used);
        memcpy(tmp + used, item, item_len + 1);
        if (ui_text_width(tmp) > COLS) break;
        memcpy(buf, tmp, used + item_len + 1);
        used += item_len;
        p += len;
        while (*p == ' ') p++;
    }
    ui_put(y, 0, COLS, UR_MUTED, buf, 0);
}

/* A centered box; returns its geometry. */
void ui_draw_box(int h, int w, int *y0, int *x0, ui_role role)
{
    if (w > COLS) w = COLS;
    if (h > LINES) h = LINES;
    *y0 = (LINES - h) / 2;
    *x0 = (COLS - w) / 2;
    attrset(ui_con.attr[role]);
    for (int r = 0; r < h; r++) mvhline(*y0 + r, *x0, ' ', w);
    if (w >= 2 && h >= 2) {
        mvhline(*y0, *x0, ACS_HLINE, w);
        mvhline(*y0 + h - 1, *x0, ACS_HLINE, w);
        mvvline(*y0, *x0, ACS_VLINE, h);
        mvvline(*y0, *x0 + w - 1, ACS_VLINE, h);
        mvaddch(*y0, *x0, ACS_ULCORNER);
        mvaddch(*y0, *x0 + w - 1, ACS_URCORNER);
        mvaddch(*y0 + h - 1, *x0, ACS_LLCORNER);
        mvaddch(*y0 + h - 1, *x0 + w - 1, ACS_LRCORNER);
    }
    attrset(ui_con.attr[UR_NORMAL]);
}

/* Splits sanitized text into pieces of at most width cells, breaking at a space when one is near;
 * continuation pieces are indented two spaces past the text's own leading spaces (a hanging
 * indent, at most a third of the width). Returns the count; pieces are malloc'd into out. */
size_t ui_wrap_text(const char *s, int width, char ***out)
{
    size_t n = 0;
    *out = NULL;
    const char *p = s;
    int first = 1;
    if (width < 8) width = 8;
    int lead = 0;
    while (s[lead] == ' ') lead++;
    lead += 2;
    if (lead > width / 3 || lead > 40) lead = 2;
    char hang[64];
    snprintf(hang, sizeof hang, "%*s", lead, "");
    do {
        const char *indent = first ? "" : hang;
        int avail = width - (first ? 0 : lead);
        int w = 0;
        const char *q = p, *space = NULL;
        while (*q) {
            uint32_t cp;
            int len = (int)utf8_decode((const unsigned char *)q, strlen(q), &cp, NULL);
            if (len <= 0) len = 1;
            char tmp[8] = {0};
            memcpy(tmp, q, (size_t)len);
            int cw = ui_text_width(tmp);
            if (w + cw > avail) break;
            if (*q == ' ') space = q;
            w += cw;
            q += len;
        }
        const char *cut = q;
        if (*q && space && space > p + avail / 2) cut = space;
        char **grown = xrealloc(*out, (n + 1) * sizeof **out);
        *out = grown;
        size_t len = (size_t)(cut - p);
        size_t size = len + strlen(indent) + 1;
        char *piece = xmalloc(size);
        snprintf(piece, size, "%s%.*s", indent, (int)len, p);
        (*out)[n++] = piece;
        p = cut;
        while (*p == ' ' && !first) p++;
        if (*p == ' ') p++;
        first = 0;
    } while (*p);
    return n;
}

/* Emits the help screen's display lines for this view, from line number `from` on, into rows
 * 1..LINES-1 (draw = 0 only counts). A key's names go on a line of their own when they are wider
 * than the key column; a description wider than its column wraps at a space, so nothing is cut.
 * Returns the number of display lines. */
static int help_lines(int kw, int from, int draw)
{
    size_t n;
    const ui_key *keys = ui_keys(&n);
    unsigned view = ui_view_bit();
    int line = 0, y = 1, dw = COLS - kw - 3;
    for (size_t i = 0; i < n; i++) {
        if (!(keys[i].views & view)) continue;
        if (ui_con.o->read_only && keys[i].changes_state) continue;
        int split = ui_text_width(keys[i].names) > kw;
        if (split) {
            if (draw && line >= from && y < LINES) ui_put(y++, 1, COLS - 2, UR_HEADER, keys[i].names, 1);
            line++;
        }
        char **pieces;
        size_t np = ui_wrap_text(keys[i].help, dw, &pieces);
        for (size_t k = 0; k < np; k++) {
            if (draw && line >= from && y < LINES) {
                if (k == 0 && !split) ui_put(y, 1, kw, UR_HEADER, keys[i].names, 1);
                ui_put(y, kw + 2, COLS - kw - 2, UR_NORMAL, pieces[k], 1);
                y++;
            }
            line++;
            free(pieces[k]);
        }
        free(pieces);
    }
    if (ui_con.o->read_only) {
        if (draw && line >= from && y < LINES) ui_put(y, 1, COLS - 2, UR_WARNING, "read-only: actions that change state are hidden", 0);
        line++;
    }
    return line;
}

/* The help screen: the keys of this view, scrolled by help_scroll (clamped so the last line stays
 * on screen); the title says which lines are shown when they do not all fit. */
void ui_draw_help(void)
{
    int kw = COLS >= 70 ? 20 : 13;
    int total = help_lines(kw, 0, 0);
    int avail = LINES - 1 > 1 ? LINES - 1 : 1;
    int max_scroll = total > avail ? total - avail : 0;
    if (ui_con.help_scroll > max_scroll) ui_con.help_scroll = max_scroll;
    if (ui_con.help_scroll < 0) ui_con.help_scroll = 0;
    erase();
    char title[160];
    int last = ui_con.help_scroll + avail < total ? ui_con.help_scroll + avail : total;
    if (max_scroll > 0)
        snprintf(title, sizeof title, "Keys %d-%d of %d (Up/Down scroll, other keys close)", ui_con.help_scroll + 1, last, total);
    else
        snprintf(title, sizeof title, "Keys of this view (any key but Up/Down closes)");
    ui_put(0, 0, COLS, UR_HEADER, title, 1);
    help_lines(kw, ui_con.help_scroll, 1);
}
