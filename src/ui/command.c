/* The : command line (docs/console.md): `:status USER`, `:retire USER`, `:resume USER`,
 * `:history USER`, `:goto ID`, `:q`; Tab completes the command, then the username from the list. */
#include "ui/console_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const commands[] = {"status", "retire", "resume", "history", "goto", "q", NULL};

/* Tab: completes the word being typed (a command, else a username of the list). */
static void complete(void)
{
    char *cmd = ui_con.cmd;
    char *space = strchr(cmd, ' ');
    if (!space) {
        for (int i = 0; commands[i]; i++)
            if (*cmd && !strncmp(commands[i], cmd, strlen(cmd))) {
                snprintf(ui_con.cmd, sizeof ui_con.cmd, "%s ", commands[i]);
                return;
            }
        return;
    }
    const char *word = space + 1;
    size_t wl = strlen(word);
    if (!ui_con.have_store) return;
    /* the shortest username starting with the word (case-insensitive), so repeated Tab is stable */
    const char *best = NULL;
    for (size_t i = 0; i < ui_con.store.n; i++) {
        const char *n = ui_store_name(&ui_con.store, &ui_con.store.v[i]);
        if (!strncasecmp(n, word, wl) && (!best || strlen(n) < strlen(best) || (strlen(n) == strlen(best) && strcmp(n, best) < 0)))
            best = n;
    }
    if (best) snprintf(space + 1, sizeof ui_con.cmd - (size_t)(space + 1 - ui_con.cmd), "%s", best);
    else ui_msg(UR_WARNING, "no learner in the list starts with %s", word);
}

/* Selects learner l in its tab (clearing a filter that hides it). */
static void select_learner(const ui_learner *l)
{
    if (l->tab >= UI_TAB_COUNT) {
        ui_msg(UR_WARNING, "%s is in no tab (its state %s is outside the console's history_days)",
               ui_store_name(&ui_con.store, l), ui_store_state(&ui_con.store, l->state));
        return;
    }
    uint32_t idx = (uint32_t)(l - ui_con.store.v);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < ui_con.store.n_rows[l->tab]; i++)
            if (ui_con.store.rows[l->tab][i] == idx) {
                ui_con.tab = (ui_tab)l->tab;
                ui_con.list[l->tab].sel = i;
                ui_view_enter(V_LIST);
                return;
            }
        ui_con.filter[0] = '\0'; /* hidden by the filter: clear it and look again */
        ui_store_filter(&ui_con.store, "");
    }
}

/* Runs the typed command. */
static void run(const char *line)
{
    char verb[32] = "", arg[256] = "";
    while (*line == ' ') line++;
    const char *sp = strchr(line, ' ');
    snprintf(verb, sizeof verb, "%.*s", (int)(sp ? (size_t)(sp - line) : strlen(line)), line);
    if (sp) {
        while (*sp == ' ') sp++;
        snprintf(arg, sizeof arg, "%s", sp);
        size_t l = strlen(arg);
        while (l && arg[l - 1] == ' ') arg[--l] = '\0';
    }
    if (!verb[0]) return;
    if (!strcmp(verb, "q") || !strcmp(verb, "quit")) {
        ui_con.cmd_quit = 1;
        return;
    }
    int known = 0;
    for (int i = 0; commands[i]; i++) known |= !strcmp(commands[i], verb);
    if (!known) {
        ui_msg(UR_WARNING, "unknown command :%s (commands: status USER, retire USER, resume USER, history USER, goto ID, q)",
               verb);
        return;
    }
    if (!arg[0]) {
        ui_msg(UR_WARNING, ":%s needs %s (Tab completes a username)", verb, strcmp(verb, "goto") ? "a username" : "an id");
        return;
    }
    if (!strcmp(verb, "goto")) {
        char *end;
        unsigned long id = strtoul(arg, &end, 10);
        if (*end || !ui_con.have_store) {
            ui_msg(UR_WARNING, ":goto takes a retirement id or an LMS user id (a number), not %s", arg);
            return;
        }
        for (size_t i = 0; i < ui_con.store.n; i++) {
            const ui_learner *l = &ui_con.store.v[i];
            if (l->retirement_id == id || l->user_id == id) {
                select_learner(l);
                ui_msg(UR_MUTED, "%s: retirement id %u, user id %u", ui_store_name(&ui_con.store, l), l->retirement_id,
                       l->user_id);
                return;
            }
        }
        ui_msg(UR_WARNING, "no learner in the list has retirement id or user id %lu", id);
        return;
    }
    const ui_learner *l = ui_find_learner(arg);
    if (!l && strcmp(verb, "status") != 0) {
        ui_msg(UR_WARNING, "%s is not in the list (Tab completes a username; :status USER reads any learner)", arg);
        return;
    }
    if (l) select_learner(l);
    if (!strcmp(verb, "history")) {
        ui_open_list_view(V_JOBS);
        ui_con.jobs_for = xstrdup(arg);
        return;
    }
    ui_open_detail(arg);
    if (!strcmp(verb, "retire") || !strcmp(verb, "resume")) {
        if (ui_con.o->read_only) ui_msg(UR_WARNING, "read-only console: actions that change state are disabled");
        else {
            int busy = ui_refuse_busy_ex(arg, !strcmp(verb, "resume"));
            ui_con.force_next = busy == 2;
            if (busy != 1) ui_ask_retire(!strcmp(verb, "resume"));
        }
    }
}

void ui_command_key(int ch)
{
    if (ch == 27) {
        ui_con.cmd_editing = 0;
    } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        ui_con.cmd_editing = 0;
        char line[sizeof ui_con.cmd];
        snprintf(line, sizeof line, "%s", ui_con.cmd);
        run(line);
    } else if (ch == '\t') {
        complete();
    } else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && !ui_con.cmd[0]) {
        ui_con.cmd_editing = 0;
    } else {
        ui_edit_field(ui_con.cmd, sizeof ui_con.cmd, ch);
    }
    ui_con.dirty = 1;
}
