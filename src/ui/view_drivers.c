/* The drivers view: built-in and plugin drivers with their methods, and load problems; a panel
 * (panel.h) whose selected row can show its full load error. Its entry of the view table is
 * ui_drivers_view. */
#include "ui/console_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/text.h"

void ui_open_drivers(void)
{
    const char *n = ui_selected_name();
    char *copy = n ? xstrdup(n) : NULL;
    free(ui_con.drivers_for);
    ui_con.drivers_for = copy;
    ui_view_enter(V_DRIVERS);
}

/* The open hook: from the top, listing the drivers again; Esc goes back to `from`. */
static void open_drivers(view_t from)
{
    ui_con.drivers_back = from;
    ui_panel_reset(&ui_con.drv);
    ui_start_drivers();
}

int ui_step_cannot_run(size_t step, char *why, size_t why_size)
{
    if (!ui_con.drivers_loaded || step >= ui_con.pipe.n) return 0;
    const char *name = ui_con.pipe.driver[step], *method = ui_con.pipe.method[step];
    const driver_row *d = NULL;
    int has_method = 0;
    for (size_t i = 0; i < ui_con.n_drivers; i++) {
        const driver_row *r = &ui_con.drivers[i];
        if (strcmp(r->name, name) != 0) continue;
        if (!r->method && !d) d = r;
        if (r->method && strcmp(r->method, method) == 0) has_method = 1;
    }
    if (!d) snprintf(why, why_size, "no driver is called %s (see retirectl drivers)", name);
    else if (d->error) snprintf(why, why_size, "%s", d->error);
    else if (!has_method) snprintf(why, why_size, "driver %s has no method %s", name, method);
    else return 0;
    return 1;
}

/* Pipeline steps (1-based, comma-separated) that use driver name (and method, when not NULL). */
static void pipeline_steps(const char *name, const char *method, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < ui_con.pipe.n && used < size; i++)
        if (!strcmp(ui_con.pipe.driver[i], name) && (!method || !strcmp(ui_con.pipe.method[i], method)))
            used += (size_t)snprintf(out + used, size - used, "%s%zu", used ? "," : "", i + 1);
}

int ui_pipeline_problem(char *why, size_t why_size)
{
    for (size_t i = 0; i < ui_con.pipe.n; i++) {
        char w[600];
        if (ui_step_cannot_run(i, w, sizeof w)) {
            snprintf(why, why_size, "step %zu %s.%s: %s", i + 1, ui_con.pipe.driver[i], ui_con.pipe.method[i], w);
            return 1;
        }
    }
    return 0;
}

/* Enter: shows or hides the selected row's full load error. */
static void toggle_driver_error(void)
{
    ui_con.drv_expanded = ui_con.drv_expanded == ui_con.drv.sel + 1 ? 0 : ui_con.drv.sel + 1;
}

/* One selectable row of the drivers view (i < n_drivers + n_problems): its text and colour;
 * *error: the full text Enter expands (NULL when none). */
static void driver_line(size_t i, char *line, size_t size, ui_role *role, const char **error)
{
    *role = UR_NORMAL;
    *error = NULL;
    char steps[200];
    if (i < ui_con.n_drivers) {
        const driver_row *d = &ui_con.drivers[i];
        pipeline_steps(d->name, d->method, steps, sizeof steps);
        if (d->method) {
            snprintf(line, size, "      %s.%s%s%s", d->name, d->method, steps[0] ? "  <- pipeline step " : "", steps);
            return;
        }
        if (d->builtin) snprintf(line, size, "%s %s %s  built-in", steps[0] ? "P" : " ", d->name, d->version);
        else snprintf(line, size, "%s %s %s  %s:%d", steps[0] ? "P" : " ", d->name, d->version, d->source, d->line);
        *role = d->error ? UR_FAILED : UR_HEADER;
        if (d->error) {
            size_t l = strlen(line);
            snprintf(line + l, size - l, "  LOAD ERROR (Enter shows it all): %s", d->error);
            *error = d->error;
        }
    } else {
        snprintf(line, size, "  problem: %s", ui_con.problems[i - ui_con.n_drivers]);
        *role = UR_WARNING;
        *error = ui_con.problems[i - ui_con.n_drivers];
    }
}

/* The expanded error's wrapped lines, which go under its row. */
typedef struct drivers_ctx {
    char **extra;
    size_t n_extra;
} drivers_ctx;

/* Paints drivers-view row i at y, and under it the expanded error (a panel row callback). */
static int paint_driver_row(void *vctx, size_t i, int y, int left, int sel)
{
    const drivers_ctx *c = vctx;
    char line[1400];
    ui_role role;
    const char *err;
    driver_line(i, line, sizeof line, &role, &err);
    ui_put(y, 0, COLS, sel ? UR_SELECTION : role, line, 1);
    int used = 1;
    if (i + 1 == ui_con.drv_expanded)
        for (size_t k = 0; k < c->n_extra && used < left; k++) ui_put(y + used++, 6, COLS - 6, UR_FAILED, c->extra[k], 1);
    return used;
}

/* The drivers view: a title, a banner when the pipeline cannot run, then the rows. */
static void draw_drivers(const ui_screen_layout *L)
{
    int top = L->header_row;
    char title[300];
    snprintf(title, sizeof title, "Drivers%s%s  P: used by the pipeline%s%s", ui_con.drivers_pid > 0 ? " (loading...)" : "",
             ui_con.n_problems ? "  problems below" : "",
             ui_con.o->read_only ? "" : "  x on a method reruns it for ",
             ui_con.o->read_only ? "" : ui_con.drivers_for ? ui_con.drivers_for : "the selected learner");
    ui_fill_row(top, UR_HEADER);
    ui_put(top, 0, COLS, UR_HEADER, title, 0);
    int rows = L->list_rows;
    char why[800];
    if (ui_pipeline_problem(why, sizeof why) && rows > 2) { /* a banner: the pipeline cannot run */
        char banner[900];
        snprintf(banner, sizeof banner, " THE PIPELINE CANNOT RUN: %s", why);
        ui_fill_row(top + 1, UR_FAILED);
        ui_put(top + 1, 0, COLS, UR_FAILED, banner, 0);
        top++, rows--;
    }
    size_t total = ui_con.n_drivers + ui_con.n_problems;
    drivers_ctx c = {NULL, 0};
    if (ui_con.drv_expanded && ui_con.drv_expanded - 1 < total) {
        char line[1400];
        ui_role role;
        const char *err;
        driver_line(ui_con.drv_expanded - 1, line, sizeof line, &role, &err);
        if (err) {
            char *clean = ui_text_sanitize(err, (size_t)-1);
            ui_text_flatten(clean);
            c.n_extra = ui_wrap_text(clean, COLS - 8, &c.extra);
            free(clean);
        }
    }
    if (ui_con.drv.sel >= total && total) ui_con.drv.sel = total - 1;
    size_t sel_extra = ui_con.drv_expanded && ui_con.drv.sel + 1 >= ui_con.drv_expanded ? c.n_extra : 0;
    if (rows > 0) ui_panel_scroll(&ui_con.drv, total, (size_t)rows, sel_extra); /* the selection's error in view too */
    ui_panel_draw(&ui_con.drv, total, top + 1, rows, paint_driver_row, &c);
    for (size_t k = 0; k < c.n_extra; k++) free(c.extra[k]);
    free(c.extra);
    if (!total && ui_con.drivers_pid <= 0) ui_put(top + 2, 2, COLS - 4, UR_MUTED, "no drivers found", 0);
}

/* The drivers view's own keys: Enter expands an error, x reruns the selected method. */
static int drivers_key(ui_action a, long page)
{
    (void)page;
    if (a == UA_OPEN) {
        toggle_driver_error();
    } else if (a == UA_RERUN) {
        const driver_row *d = ui_con.drv.sel < ui_con.n_drivers ? &ui_con.drivers[ui_con.drv.sel] : NULL;
        if (d && d->method) ui_ask_rerun(ui_con.drivers_for, d->name, d->method);
        else ui_msg(UR_WARNING, "pick a method line (indented) to rerun");
    } else {
        return 0;
    }
    return 1;
}

static ui_panel *drivers_panel(size_t *n)
{
    *n = ui_con.n_drivers + ui_con.n_problems;
    return &ui_con.drv;
}

/* Esc: back to the view the drivers were opened from. */
static void close_drivers(void)
{
    ui_con.view = ui_con.drivers_back;
}

/* The learner x reruns a method for, else the list's selection. */
static const char *drivers_selected(void)
{
    return ui_con.drivers_for ? ui_con.drivers_for : ui_list_selected_name();
}

const ui_view_ops ui_drivers_view = {
    .title = "drivers",
    .key_bit = UI_VIEW_DRIVERS,
    .hint = "? help  Esc back  x rerun method",
    .hint_read_only = "? help  Esc back",
    .draw = draw_drivers,
    .key = drivers_key,
    .open = open_drivers,
    .close = close_drivers,
    .panel = drivers_panel,
    .selected = drivers_selected,
    .reload = ui_start_drivers,
};
