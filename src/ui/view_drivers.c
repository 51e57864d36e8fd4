/* The drivers view: built-in and plugin drivers with their methods, and load problems. */
#include "ui/console_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ui_open_drivers(void)
{
    ui_con.drivers_back = ui_con.view;
    free(ui_con.drivers_for);
    const char *n = ui_selected_name();
    ui_con.drivers_for = n ? ui_xstrdup(n) : NULL;
    ui_con.view = V_DRIVERS;
    ui_con.drv_sel = ui_con.drv_top = 0;
    ui_start_drivers();
    ui_con.dirty = 1;
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

void ui_draw_drivers(const ui_screen_layout *L)
{
    int top = L->header_row;
    char title[300];
    snprintf(title, sizeof title, "Drivers%s%s  (x on a method reruns it for %s)", ui_con.drivers_pid > 0 ? " (loading...)" : "",
             ui_con.n_problems ? "  problems below" : "", ui_con.drivers_for ? ui_con.drivers_for : "the selected learner");
    ui_fill_row(top, UR_HEADER);
    ui_put(top, 0, COLS, UR_HEADER, title, 0);
    int rows = L->list_rows;
    size_t total = ui_con.n_drivers + ui_con.n_problems;
    if (ui_con.drv_sel >= total && total) ui_con.drv_sel = total - 1;
    if (ui_con.drv_sel < ui_con.drv_top) ui_con.drv_top = ui_con.drv_sel;
    if (ui_con.drv_sel >= ui_con.drv_top + (size_t)rows) ui_con.drv_top = ui_con.drv_sel - (size_t)rows + 1;
    for (int r = 0; r < rows && ui_con.drv_top + (size_t)r < total; r++) {
        size_t i = ui_con.drv_top + (size_t)r;
        int y = top + 1 + r;
        int sel = i == ui_con.drv_sel;
        char line[1400];
        ui_role role = UR_NORMAL;
        if (i < ui_con.n_drivers) {
            const driver_row *d = &ui_con.drivers[i];
            if (d->method) {
                snprintf(line, sizeof line, "      %s.%s", d->name, d->method);
            } else {
                if (d->builtin) snprintf(line, sizeof line, "  %s %s  built-in", d->name, d->version);
                else snprintf(line, sizeof line, "  %s %s  %s:%d", d->name, d->version, d->source, d->line);
                role = d->error ? UR_FAILED : UR_HEADER;
                if (d->error) {
                    size_t l = strlen(line);
                    snprintf(line + l, sizeof line - l, "  LOAD ERROR: %s", d->error);
                }
            }
        } else {
            snprintf(line, sizeof line, "  problem: %s", ui_con.problems[i - ui_con.n_drivers]);
            role = UR_WARNING;
        }
        ui_put(y, 0, COLS, sel ? UR_SELECTION : role, line, 1);
    }
    if (!total && ui_con.drivers_pid <= 0) ui_put(top + 2, 2, COLS - 4, UR_MUTED, "no drivers found", 0);
}
