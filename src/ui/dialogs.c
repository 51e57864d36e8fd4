/* Console confirmations (retire, resume, rerun, reset, cancel, quit): each describes exactly
 * what will happen before the operator confirms; and the picker of states to reset to. */
#include "ui/console_internal.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/text.h"
#include "common/xalloc.h"

void ui_dialog_clear(void)
{
    for (size_t i = 0; i < ui_con.dlg.n_lines; i++) free(ui_con.dlg.lines[i]);
    free(ui_con.dlg.lines);
    for (size_t i = 0; i < ui_con.dlg.n_learners; i++) free(ui_con.dlg.learners[i]);
    free(ui_con.dlg.learners);
    free(ui_con.dlg.arg), free(ui_con.dlg.arg2), free(ui_con.dlg.arg3);
    memset(&ui_con.dlg, 0, sizeof ui_con.dlg);
    ui_con.dirty = 1;
}

void ui_dlg_line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf sb = STRBUF_INIT;
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    char **nl = xrealloc(ui_con.dlg.lines, (ui_con.dlg.n_lines + 1) * sizeof *nl);
    ui_con.dlg.lines = nl;
    ui_con.dlg.lines[ui_con.dlg.n_lines++] = ui_text_sanitize(sb_str(&sb), (size_t)-1);
    sb_free(&sb);
}

/* Adds a learner the dialog acts on. */
static void dlg_add_learner(const char *name)
{
    char **nl = xrealloc(ui_con.dlg.learners, (ui_con.dlg.n_learners + 1) * sizeof *nl);
    ui_con.dlg.learners = nl;
    ui_con.dlg.learners[ui_con.dlg.n_learners++] = xstrdup(name);
}

/* Why retire (or resume) would refuse a learner in state, or NULL when it would run. */
static const char *refusal(const char *state, int resume)
{
    if (!state) return NULL;
    int end = !strcmp(state, "COMPLETE") || !strcmp(state, "ABORTED") || !strcmp(state, "ERRORED");
    int working = ui_pipe_step_of_start(&ui_con.pipe, state) >= 0;
    int queued = !strcmp(state, "PENDING") || ui_pipe_step_of_end(&ui_con.pipe, state) >= 0;
    if (!resume) {
        if (!strcmp(state, "ERRORED")) return "is ERRORED: retire refuses end states (exit 254); resume (u) puts it back before the failed step";
        if (end) return "is in an end state: retire refuses it (exit 254)";
        if (working) return "is in a working state: retire refuses it (exit 253); resume (u) if it is stuck";
        if (!queued) return "is in a state the pipeline does not know: retire refuses it (exit 250)";
        return NULL;
    }
    if (!strcmp(state, "COMPLETE") || !strcmp(state, "ABORTED")) return "is COMPLETE or ABORTED: resume refuses it (exit 254)";
    if (queued) return "has nothing to resume (PENDING or a completed step): use retire (r)";
    if (!end && !working) return "is in a state the pipeline does not know: resume refuses it (exit 250)";
    return NULL;
}

/* Warns when name's request is still inside the cool-off period (the Pending tab). */
static void cool_off_warning(const char *name)
{
    const ui_learner *l = ui_find_learner(name);
    if (!l || !l->created || ui_con.cool_off_days <= 0) return;
    int64_t age = (int64_t)time(NULL) - l->created, period = (int64_t)ui_con.cool_off_days * 86400;
    if (age >= period) return;
    int64_t left = period - age;
    ui_dlg_line("  WARNING: %s is still in the cool-off period: %lld day%s %lld h left (requested %lld days ago, "
                "console.cool_off_days %ld); the learner may still cancel the request.", name,
                (long long)(left / 86400), left / 86400 == 1 ? "" : "s", (long long)(left % 86400 / 3600),
                (long long)(age / 86400), ui_con.cool_off_days);
}

/* Describes what retiring/resuming name will do, step by step, from its current state. */
static void describe_retire(const char *name, int resume)
{
    const char *state = ui_learner_state(name), *last = ui_learner_last_state(name);
    if (!state) {
        ui_dlg_line("  %s: not in the current list; the engine reads its state first", name);
        return;
    }
    const char *no = refusal(state, resume);
    if (no) {
        ui_dlg_line("  %s %s; nothing is done for it.", name, no);
        return;
    }
    ui_elsewhere w;
    if (ui_learner_elsewhere(name, &w)) {
        char d[700];
        ui_elsewhere_describe(&w, time(NULL), d, sizeof d);
        if (!ui_con.dlg.force || w.pid) {
            ui_dlg_line("  %s is %s; it is skipped.", name, d);
            return;
        }
        ui_dlg_line("  %s is %s; --force runs it anyway.", name, d);
    }
    int from = 0; /* first step that runs */
    int k;
    if (resume) {
        if (strcmp(state, "ERRORED") == 0 || strcmp(state, "ABORTED") == 0) {
            if ((k = ui_pipe_step_of_start(&ui_con.pipe, last)) >= 0) from = k;
            else if ((k = ui_pipe_step_of_end(&ui_con.pipe, last)) >= 0) from = k + 1;
        } else if ((k = ui_pipe_step_of_start(&ui_con.pipe, state)) >= 0) {
            from = k;
        } else if ((k = ui_pipe_step_of_end(&ui_con.pipe, state)) >= 0) {
            from = k + 1;
        }
        const char *back = from == 0 ? "PENDING" : ui_con.pipe.end[from - 1];
        ui_dlg_line("  %s: now %s (last %s); forced back to %s (PATCH force), then retired from step %d", name, state,
                 last && *last ? last : "-", back, from + 1);
    } else {
        if ((k = ui_pipe_step_of_end(&ui_con.pipe, state)) >= 0) from = k + 1;
        ui_dlg_line("  %s: now %s", name, state);
        cool_off_warning(name);
    }
    int cannot = 0;
    for (size_t i = 0; i < ui_con.pipe.n; i++) {
        char why[600];
        if ((int)i < from)
            ui_dlg_line("    %zu. skip  %s -> %s  %s.%s (completed in a previous run)", i + 1, ui_con.pipe.start[i],
                     ui_con.pipe.end[i], ui_con.pipe.driver[i], ui_con.pipe.method[i]);
        else if (ui_step_cannot_run(i, why, sizeof why))
            cannot++, ui_dlg_line("    %zu. fail  %s.%s cannot run: %s", i + 1, ui_con.pipe.driver[i], ui_con.pipe.method[i], why);
        else
            ui_dlg_line("    %zu. run   PATCH %s, call %s.%s, PATCH %s", i + 1, ui_con.pipe.start[i], ui_con.pipe.driver[i],
                     ui_con.pipe.method[i], ui_con.pipe.end[i]);
    }
    if (cannot)
        ui_dlg_line("    the engine checks every step's driver first: with %d that cannot run it refuses this learner "
                    "and changes nothing (see d, the drivers view)", cannot);
    else
        ui_dlg_line("    then PATCH COMPLETE; on any failure PATCH ERRORED with the reason");
}

void ui_open_dialog(act_kind kind, const char *title)
{
    ui_con.dlg.active = 1;
    ui_con.dlg.kind = kind;
    snprintf(ui_con.dlg.title, sizeof ui_con.dlg.title, "%s", title);
    int changes = kind != ACT_CANCEL && kind != ACT_QUIT;
    size_t n = ui_con.dlg.n_learners;
    /* over console.max_bulk the count is typed, in any environment (S1) */
    int bulk = changes && n > 1 && (long)n > ui_con.max_bulk;
    ui_con.dlg.typed = changes && (ui_con.production || bulk);
    ui_con.dlg.expect_alt[0] = '\0';
    if (ui_con.dlg.typed) {
        if (bulk)
            snprintf(ui_con.dlg.expect, sizeof ui_con.dlg.expect, "%s %zu", kind == ACT_RESUME ? "resume" : "retire", n);
        else if (n == 1) {
            snprintf(ui_con.dlg.expect, sizeof ui_con.dlg.expect, "%s", ui_con.dlg.learners[0]);
            /* a name that cannot be typed (an invisible character): its LMS user id also confirms (S3) */
            const ui_learner *l = ui_find_learner(ui_con.dlg.learners[0]);
            if (l && l->user_id) snprintf(ui_con.dlg.expect_alt, sizeof ui_con.dlg.expect_alt, "%u", l->user_id);
        } else
            snprintf(ui_con.dlg.expect, sizeof ui_con.dlg.expect, "%zu", n);
    }
    if (ui_con.dlg.force && n == 1) { /* an explicit, typed confirmation that passes --force */
        ui_con.dlg.typed = 1;
        snprintf(ui_con.dlg.expect, sizeof ui_con.dlg.expect, "force %s", ui_con.dlg.learners[0]);
        ui_con.dlg.expect_alt[0] = '\0';
        ui_dlg_line("FORCE: %s's working state changed less than step_timeout_seconds (%g s) ago, so a job on another "
                    "host may be working on it now; the CLI refuses it (exit 253) without --force. Confirming passes "
                    "--force: do it only after checking that no other host runs it (its state has stopped changing). "
                    "A job on this host (the learner's lease) still refuses it.", ui_con.dlg.learners[0],
                    ui_con.step_timeout_s);
        ui_dlg_line("Type `force %s` to run it with --force, or Esc.", ui_con.dlg.learners[0]);
    } else {
        ui_con.dlg.force = 0;
    }
    ui_con.dlg.asks_reason = changes;
    ui_con.dlg.reason_required = changes && ui_con.require_reason;
    ui_con.dlg.focus = ui_con.dlg.reason_required ? DLG_FOCUS_REASON : DLG_FOCUS_CONFIRM;
    ui_con.dlg.reason[0] = '\0';
    ui_con.dlg.input[0] = '\0';
    ui_con.dirty = 1;
}

/* Targets of an action: the marked learners in the list (if any), else the selected one. */
static size_t collect_targets(void)
{
    if (ui_marked_bulk()) {
        for (size_t i = 0; i < ui_con.store.n; i++)
            if (ui_con.store.v[i].marked) dlg_add_learner(ui_store_name(&ui_con.store, &ui_con.store.v[i]));
    } else {
        const char *n = ui_selected_name();
        if (n) dlg_add_learner(n);
    }
    return ui_con.dlg.n_learners;
}

/* (Re)builds the lines of a retire/resume dialog from the learners' current states. */
static void describe_retire_dialog(int resume)
{
    size_t n = ui_con.dlg.n_learners;
    /* what runs and that it cannot be undone first: with many learners the per-learner steps
     * below need scrolling, and the decision must not depend on scrolling */
    if (n > 1) {
        ui_dlg_line("Runs `retirectl %s USER --events` for each of the %zu learners, %d at a time (console.workers).",
                    resume ? "resume" : "retire", n, ui_con.workers);
        ui_dlg_line("Personal data at every service in the pipeline is deleted; this cannot be undone.");
        if ((long)n > ui_con.max_bulk)
            ui_dlg_line("%zu learners is more than console.max_bulk (%ld), the CLI's limit too: type `%s %zu` to "
                        "confirm.", n, ui_con.max_bulk, resume ? "resume" : "retire", n);
        /* how many are in each current state (those a state refuses are named below) */
        const char *st[8];
        size_t cnt[8], ns = 0, other = 0;
        for (size_t i = 0; i < n; i++) {
            const char *s0 = ui_learner_state(ui_con.dlg.learners[i]);
            if (!s0) s0 = "(not in the list)";
            size_t k = 0;
            while (k < ns && strcmp(st[k], s0) != 0) k++;
            if (k == ns && ns < 8) st[ns] = s0, cnt[ns++] = 0;
            if (k < ns) cnt[k]++;
            else other++;
        }
        char sum[400];
        size_t used = (size_t)snprintf(sum, sizeof sum, "Now:");
        for (size_t k = 0; k < ns && used < sizeof sum; k++)
            used += (size_t)snprintf(sum + used, sizeof sum - used, "%s %zu %s", k ? "," : "", cnt[k], st[k]);
        if (other && used < sizeof sum) snprintf(sum + used, sizeof sum - used, ", %zu in other states", other);
        ui_dlg_line("%s", sum);
        ui_dlg_line("%s", n > 20 ? "The first 20, step by step (Up/Down scroll):" : "Step by step (Up/Down scroll):");
    }
    for (size_t i = 0; i < n && i < 20; i++) describe_retire(ui_con.dlg.learners[i], resume);
    if (n > 20) ui_dlg_line("  ... and %zu more learners", n - 20);
    if (n == 1) {
        ui_dlg_line("Runs `retirectl %s %s%s --events`.", resume ? "resume" : "retire", ui_con.dlg.learners[0],
                    resume ? " --yes" : "");
        ui_dlg_line("Personal data at every service in the pipeline is deleted; this cannot be undone.");
    }
}

void ui_ask_retire(int resume)
{
    int force = ui_con.force_next && resume;
    ui_con.force_next = 0;
    ui_dialog_clear();
    if (!collect_targets()) {
        ui_msg(UR_WARNING, "no learner selected");
        return;
    }
    size_t n = ui_con.dlg.n_learners;
    ui_con.dlg.force = force && n == 1;
    const char *no = n == 1 ? refusal(ui_learner_state(ui_con.dlg.learners[0]), resume) : NULL;
    if (no) {
        ui_msg(UR_WARNING, "%s %s", ui_con.dlg.learners[0], no);
        ui_dialog_clear();
        return;
    }
    char title[160];
    snprintf(title, sizeof title, "%s %zu learner%s?", resume ? "Resume" : "Retire", n, n == 1 ? "" : "s");
    describe_retire_dialog(resume);
    ui_open_dialog(resume ? ACT_RESUME : ACT_RETIRE, title);
}

/* After a refresh, an open retire/resume dialog describes the new states (what will happen now). */
void ui_redescribe_dialog(void)
{
    if (!ui_con.dlg.active || ui_con.dlg.force || (ui_con.dlg.kind != ACT_RETIRE && ui_con.dlg.kind != ACT_RESUME)) return;
    for (size_t i = ui_con.dlg.n_keep; i < ui_con.dlg.n_lines; i++) free(ui_con.dlg.lines[i]);
    ui_con.dlg.n_lines = ui_con.dlg.n_keep;
    describe_retire_dialog(ui_con.dlg.kind == ACT_RESUME);
    ui_con.dirty = 1;
}

/* Index of the pipeline step that runs driver.method, or -1. */
static int pipe_step_of_method(const char *driver, const char *method)
{
    for (size_t i = 0; i < ui_con.pipe.n; i++)
        if (strcmp(ui_con.pipe.driver[i], driver) == 0 && strcmp(ui_con.pipe.method[i], method) == 0) return (int)i;
    return -1;
}

/* The step an ERRORED learner failed at (its last state is that step's start state), or -1. */
static int failed_step(const char *learner)
{
    const char *state = ui_learner_state(learner);
    if (!state || strcmp(state, "ERRORED") != 0) return -1;
    return ui_pipe_step_of_start(&ui_con.pipe, ui_learner_last_state(learner));
}

void ui_ask_rerun(const char *learner, const char *driver, const char *method)
{
    ui_dialog_clear();
    if (!learner) {
        ui_msg(UR_WARNING, "open a learner first (Enter), then pick the step or driver method to rerun");
        return;
    }
    int busy = ui_refuse_busy_ex(learner, 1);
    if (busy == 1) return;
    ui_con.dlg.force = busy == 2;
    dlg_add_learner(learner);
    char dm[256];
    snprintf(dm, sizeof dm, "%s.%s", driver, method);
    ui_con.dlg.arg = xstrdup(dm);
    int step = pipe_step_of_method(driver, method);
    const char *state = ui_learner_state(learner);
    int failed = failed_step(learner);
    act_kind kind = ACT_RERUN;
    char title[300];
    snprintf(title, sizeof title, "Rerun %s for %s?", dm, learner);
    ui_dlg_line("Learner %s, now %s.", learner, state ? state : "(not in the current list)");
    if (step >= 0 && step == failed) {
        /* the failed step: rerun it, leave the learner at its end state, then offer to continue */
        kind = ACT_RERUN_STEP;
        ui_dlg_line("Step %d failed. Rerun: PATCH %s, call %s, then on success PATCH %s (ERRORED with the reason "
                    "on failure).", step + 1, ui_con.pipe.start[step], dm, ui_con.pipe.end[step]);
        if ((size_t)step + 1 < ui_con.pipe.n)
            ui_dlg_line("On success you are asked to continue from step %d (%s); step %d is not called again.", step + 2,
                        ui_con.pipe.start[step + 1], step + 1);
        else
            ui_dlg_line("On success you are asked to finish the retirement (PATCH COMPLETE); the step is not called again.");
        ui_dlg_line("Runs `retirectl rerun %s %s --advance --yes --events`.", learner, dm);
        snprintf(title, sizeof title, "Rerun failed step %d (%s) for %s?", step + 1, dm, learner);
    } else if (step >= 0) {
        const char *back = state ? state : "the state it is in now";
        ui_dlg_line("Step %d: PATCH %s, call %s, then back to %s on success (the state it is in now; the pipeline "
                    "does not move on), ERRORED with the reason on failure.", step + 1, ui_con.pipe.start[step], dm, back);
        ui_dlg_line("Runs `retirectl rerun %s %s --yes --events`.", learner, dm);
    } else {
        ui_dlg_line("Calls %s once for this learner (not a pipeline step: the state is not changed).", dm);
        ui_dlg_line("Runs `retirectl rerun %s %s --yes --events`.", learner, dm);
    }
    ui_open_dialog(kind, title);
}

void ui_offer_continue(const char *learner, int step)
{
    if (ui_con.dlg.active || ui_con.pk.active) {
        ui_msg(UR_DONE, "step %d reran for %s; press r on it to continue from step %d", step + 1, learner, step + 2);
        return;
    }
    ui_dialog_clear();
    dlg_add_learner(learner);
    const char *state = ui_learner_state(learner);
    ui_dlg_line("Step %d (%s.%s) succeeded; %s is now %s at the LMS.", step + 1, ui_con.pipe.driver[step],
                ui_con.pipe.method[step], learner, state ? state : ui_con.pipe.end[step]);
    ui_con.dlg.n_keep = ui_con.dlg.n_lines;
    describe_retire_dialog(0);
    char title[300];
    if ((size_t)step + 1 < ui_con.pipe.n)
        snprintf(title, sizeof title, "Continue %s from step %d?", learner, step + 2);
    else
        snprintf(title, sizeof title, "Finish the retirement of %s?", learner);
    ui_open_dialog(ACT_RETIRE, title);
}

void ui_offer_force(const ui_job *j, const char *why)
{
    if (ui_con.dlg.active || ui_con.pk.active) return; /* the message line has said why */
    ui_dialog_clear();
    dlg_add_learner(j->learner);
    ui_dlg_line("The CLI refused the %s of %s (exit 253); nothing was changed:", j->what, j->learner);
    ui_dlg_line("  %s", why);
    ui_dlg_line("Runs `retirectl %s %s ... --yes --force --events` if you confirm.", j->action, j->learner);
    ui_con.dlg.arg = j->act_arg[0] ? xstrdup(j->act_arg[0]) : NULL;
    ui_con.dlg.force = 1;
    char title[300];
    snprintf(title, sizeof title, "Force the %s of %s?", j->what, j->learner);
    ui_open_dialog((act_kind)j->act, title);
    if (j->act_arg[3]) snprintf(ui_con.dlg.reason, sizeof ui_con.dlg.reason, "%s", j->act_arg[3]);
    ui_con.dlg.focus = DLG_FOCUS_CONFIRM;
}

void ui_ask_cancel(void)
{
    ui_dialog_clear();
    const char *name = ui_selected_name();
    ui_job *j = name ? ui_learner_job(name, 1) : NULL;
    if (!j || j->exited) {
        /* not started yet (waiting for a worker): just take it out of the queue */
        for (size_t i = 0; name && i < ui_con.n_queue; i++) {
            if (strcmp(ui_con.queue[i].learner, name) != 0) continue;
            free(ui_con.queue[i].learner);
            free(ui_con.queue[i].arg);
            free(ui_con.queue[i].reason);
            memmove(ui_con.queue + i, ui_con.queue + i + 1, (ui_con.n_queue - i - 1) * sizeof *ui_con.queue);
            ui_con.n_queue--;
            ui_msg(UR_WARNING, "%s taken out of the queue: nothing was started for it", name);
            return;
        }
        ui_msg(UR_WARNING, "no running job for %s", name ? name : "the selection");
        return;
    }
    dlg_add_learner(name);
    ui_con.dlg.cancel_pid = j->pid;
    const char *step = NULL;
    int retrying = 0;
    for (size_t i = 0; i < j->n_steps; i++)
        if (j->steps[i].status == UI_STEP_RUNNING || j->steps[i].status == UI_STEP_RETRYING) {
            step = j->steps[i].start_state ? j->steps[i].start_state : "?";
            retrying = j->steps[i].status == UI_STEP_RETRYING;
        }
    ui_dlg_line("Sends SIGINT to the %s job (pid %d) for %s.", j->what, (int)j->pid, name);
    if (retrying) {
        /* what the engine does: the retry loop stops, the step fails, the learner is ERRORED */
        ui_dlg_line("The step in flight (%s) is being retried: cancelling stops the retries, so the step fails and "
                    "the learner ends ERRORED with the last error as the reason.", step);
        ui_dlg_line("The job ends errored (exit status 252); resume (u) later reruns that step and continues.");
    } else if (step) {
        ui_dlg_line("The engine finishes the step in flight (%s), records its end state, then stops.", step);
        ui_dlg_line("The learner stays in that state (no later step runs); retire (r) continues later.");
    } else {
        ui_dlg_line("No step is in flight: the job stops before the next step; the learner keeps its state.");
    }
    char title[300];
    snprintf(title, sizeof title, "Cancel the %s job for %s?", j->what, name);
    ui_open_dialog(ACT_CANCEL, title);
}

void ui_ask_reset_pick(void)
{
    const char *name = ui_selected_name();
    if (!name) {
        ui_msg(UR_WARNING, "no learner selected");
        return;
    }
    const char *state = ui_learner_state(name), *last = ui_learner_last_state(name);
    if (!state) {
        ui_msg(UR_WARNING, "%s is not in the current list; refresh first", name);
        return;
    }
    if (ui_refuse_busy(name)) return;
    for (size_t i = 0; i < ui_con.pk.n; i++) free(ui_con.pk.labels[i]), free(ui_con.pk.values[i]);
    free(ui_con.pk.labels), free(ui_con.pk.values), free(ui_con.pk.learner);
    memset(&ui_con.pk, 0, sizeof ui_con.pk);
    size_t cap = ui_con.pipe.n + 4;
    ui_con.pk.labels = xcalloc(cap, sizeof(char *));
    ui_con.pk.values = xcalloc(cap, sizeof(char *));
    char label[300];
#define PICK(value, ...)                                                                                     \
    do {                                                                                                     \
        int seen_ = 0;                                                                                       \
        for (size_t q_ = 0; q_ < ui_con.pk.n; q_++) seen_ |= strcmp(ui_con.pk.values[q_], value) == 0;                \
        if (seen_ || strcmp(value, state) == 0) break;                                                       \
        snprintf(label, sizeof label, __VA_ARGS__);                                                          \
        ui_con.pk.labels[ui_con.pk.n] = ui_text_sanitize(label, (size_t)-1);                                           \
        ui_con.pk.values[ui_con.pk.n] = xstrdup(value);                                                                \
        ui_con.pk.n++;                                                                                            \
    } while (0)
    if (last && *last && strcmp(last, state) != 0) PICK(last, "%s  (rewind to the last state)", last);
    PICK("PENDING", "PENDING  (start over: every step runs again)");
    for (size_t i = 0; i < ui_con.pipe.n && ui_con.pk.n < cap - 1; i++)
        if (strcmp(ui_con.pipe.end[i], state) != 0) {
            if (i + 1 < ui_con.pipe.n)
                PICK(ui_con.pipe.end[i], "%s  (before step %zu, %s.%s)", ui_con.pipe.end[i], i + 2, ui_con.pipe.driver[i + 1],
                     ui_con.pipe.method[i + 1]);
            else
                PICK(ui_con.pipe.end[i], "%s  (after the last step: retire only marks it COMPLETE)", ui_con.pipe.end[i]);
        }
    PICK("ABORTED", "ABORTED  (give up on this learner)");
    if (!ui_con.pk.n) {
        ui_msg(UR_WARNING, "no other state to reset %s to", name);
        return;
    }
#undef PICK
    ui_con.pk.learner = xstrdup(name);
    ui_con.pk.active = 1;
    snprintf(ui_con.pk.title, sizeof ui_con.pk.title, "Reset %.60s (now %.60s) to:", name, state);
    ui_con.dirty = 1;
}

/* Asks before `retirectl reset` moves learner, and every learner in its state whose request was
 * created the same day, to new_state. */
static void ask_reset(const char *learner, const char *new_state)
{
    ui_dialog_clear();
    ui_learner *l = ui_find_learner(learner);
    if (!l) {
        ui_msg(UR_WARNING, "%s is not in the current list; refresh first", learner);
        return;
    }
    const char *state = ui_store_state(&ui_con.store, l->state);
    char date[16];
    time_t created = (time_t)l->created;
    struct tm tm;
    gmtime_r(&created, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    dlg_add_learner(learner);
    ui_con.dlg.arg = xstrdup(new_state);
    ui_con.dlg.arg2 = xstrdup(state);
    ui_con.dlg.arg3 = xstrdup(date);
    ui_dlg_line("Forced state update of %s: %s -> %s.", learner, state, new_state);
    ui_dlg_line("Runs `retirectl reset --initial-state %s --new-state %s --start-date %s --end-date %s`,", state, new_state,
             date, date);
    ui_dlg_line("which moves EVERY learner in %s whose request was created on %s:", state, date);
    size_t others = 0;
    for (size_t i = 0; i < ui_con.store.n; i++) {
        const ui_learner *o = &ui_con.store.v[i];
        if (o == l || o->state != l->state) continue;
        time_t oc = (time_t)o->created;
        struct tm otm;
        gmtime_r(&oc, &otm);
        if (otm.tm_year == tm.tm_year && otm.tm_yday == tm.tm_yday) {
            if (others < 10) ui_dlg_line("  also %s", ui_store_name(&ui_con.store, o));
            others++;
        }
    }
    if (others > 10) ui_dlg_line("  ... and %zu more", others - 10);
    ui_dlg_line(others ? "%zu other learner%s will move too (as listed now)." : "No other learner in the list matches.",
             others, others == 1 ? "" : "s");
    char title[300];
    snprintf(title, sizeof title, "Reset %s to %s?", learner, new_state);
    ui_open_dialog(ACT_RESET, title);
}

/* The operator confirmed: does what the dialog described. */
static void confirm_dialog(void)
{
    dialog d = ui_con.dlg;
    memset(&ui_con.dlg, 0, sizeof ui_con.dlg);
    switch (d.kind) {
    case ACT_RETIRE:
    case ACT_RESUME:
        if (d.force) { /* one learner the operator forces: started now, past the console's own check */
            ui_start_action(d.learners[0], d.kind, NULL, NULL, NULL, d.reason, 1);
            break;
        }
        for (size_t i = 0; i < d.n_learners; i++) ui_queue_action(d.learners[i], d.kind, NULL, d.reason);
        if (ui_con.have_store)
            for (size_t i = 0; i < ui_con.store.n; i++) ui_con.store.v[i].marked = 0;
        ui_run_queue();
        ui_msg(UR_RUNNING, "%s started for %zu learner%s", d.kind == ACT_RETIRE ? "retire" : "resume", d.n_learners,
            d.n_learners == 1 ? "" : "s");
        break;
    case ACT_RERUN:
    case ACT_RERUN_STEP:
        ui_start_action(d.learners[0], d.kind, d.arg, NULL, NULL, d.reason, d.force);
        break;
    case ACT_RESET:
        ui_start_action(d.learners[0], ACT_RESET, d.arg, d.arg2, d.arg3, d.reason, d.force);
        break;
    case ACT_CANCEL:
        for (size_t i = 0; i < ui_con.n_jobs; i++)
            if (ui_con.jobs[i]->pid == d.cancel_pid && !ui_con.jobs[i]->exited) {
                kill(d.cancel_pid, SIGINT);
                ui_con.jobs[i]->cancel_sent = 1;
                ui_job_log(ui_con.jobs[i], "warn", "cancel requested (SIGINT): stopping after the step in flight");
                ui_msg(UR_WARNING, "cancel sent to the %s job for %s", ui_con.jobs[i]->what, ui_con.jobs[i]->learner);
            }
        break;
    case ACT_QUIT:
        ui_con.quit = 1;
        break;
    default:
        break;
    }
    ui_con.dlg = d;
    ui_dialog_clear();
}

/* The operator declined: nothing is done. */
static void decline_dialog(void)
{
    act_kind k = ui_con.dlg.kind;
    ui_dialog_clear();
    if (k != ACT_QUIT) ui_msg(UR_MUTED, "cancelled: nothing was changed");
}

void ui_draw_dialog(void)
{
    int w = COLS - 4 > 110 ? 110 : COLS - 4;
    if (w < 10) w = COLS;
    /* wrap every line to the box */
    char **wrapped = NULL;
    size_t nw = 0;
    for (size_t i = 0; i < ui_con.dlg.n_lines; i++) {
        char **pieces;
        size_t np = ui_wrap_text(ui_con.dlg.lines[i], w - 2, &pieces);
        char **grown = xrealloc(wrapped, (nw + np) * sizeof *wrapped);
        wrapped = grown;
        memcpy(wrapped + nw, pieces, np * sizeof *pieces);
        nw += np;
        free(pieces);
    }
    int body = (int)nw;
    int extra = ui_con.dlg.asks_reason ? 1 : 0; /* the reason/ticket row */
    int h = body + 5 + extra;
    if (h > LINES) h = LINES;
    int y0, x0;
    ui_draw_box(h, w, &y0, &x0, ui_con.production ? UR_PRODUCTION : UR_DIALOG);
    ui_put(y0, x0 + 2, w - 4, ui_con.production ? UR_PRODUCTION : UR_DIALOG, ui_con.dlg.title, 0);
    int avail = h - 4 - extra;
    if (avail < 0) avail = 0;
    if (ui_con.dlg.scroll > body - avail) ui_con.dlg.scroll = body - avail > 0 ? body - avail : 0;
    for (int r = 0; r < avail && ui_con.dlg.scroll + r < body; r++)
        ui_put(y0 + 1 + r, x0 + 1, w - 2, UR_NORMAL, wrapped[ui_con.dlg.scroll + r], 1);
    for (size_t i = 0; i < nw; i++) free(wrapped[i]);
    free(wrapped);
    char prompt[900];
    const char *what = ui_con.dlg.expect_alt[0] ? "the username (or user id)" : NULL;
    char count_words[300];
    if (!what) {
        if (ui_con.dlg.n_learners == 1) what = "the username";
        else if (strchr(ui_con.dlg.expect, ' ')) snprintf(count_words, sizeof count_words, "`%s`", ui_con.dlg.expect), what = count_words;
        else what = "the number of learners";
    }
    int on_reason = ui_con.dlg.asks_reason && ui_con.dlg.focus == DLG_FOCUS_REASON;
    if (ui_con.dlg.typed)
        snprintf(prompt, sizeof prompt, "%s: type %s to confirm, Esc to decline: %s",
                 ui_con.production ? "PRODUCTION" : "LARGE BATCH", what, on_reason ? "" : ui_con.dlg.input);
    else
        snprintf(prompt, sizeof prompt, "Confirm? y = yes, n or Esc = no%s", body > avail ? "  (Up/Down scroll)" : "");
    if (ui_con.dlg.asks_reason && h >= 4) {
        char line[600];
        snprintf(line, sizeof line, "Reason or ticket%s: %s%s", ui_con.dlg.reason_required ? " (required)" : "",
                 ui_con.dlg.reason, on_reason ? "_   (Enter or Tab: next)" : "   (Tab edits)");
        ui_put(y0 + h - 3, x0 + 1, w - 2, on_reason ? UR_SELECTION : UR_DIALOG, line, 1);
    }
    if (h >= 3) ui_put(y0 + h - 2, x0 + 1, w - 2, on_reason ? UR_MUTED : ui_con.dlg.typed ? UR_WARNING : UR_DIALOG, prompt, 1);
}

/* One state of the reset picker (ctx: its x and width). */
static int picker_row(void *ctx, size_t r, int y, int left, int sel)
{
    const int *box = ctx;
    (void)left;
    ui_put(y, box[0], box[1], sel ? UR_SELECTION : UR_NORMAL, ui_con.pk.labels[r], 1);
    return 1;
}

void ui_draw_picker(void)
{
    int w = COLS - 4 > 90 ? 90 : COLS - 4;
    if (w < 10) w = COLS;
    int h = (int)ui_con.pk.n + 4;
    if (h > LINES) h = LINES;
    int y0, x0;
    ui_draw_box(h, w, &y0, &x0, UR_DIALOG);
    ui_put(y0, x0 + 2, w - 4, UR_DIALOG, ui_con.pk.title, 0);
    int box[2] = {x0 + 1, w - 2};
    ui_con.pk.panel.top = 0; /* the selection stays on the last row shown when below the first screenful */
    ui_panel_draw(&ui_con.pk.panel, ui_con.pk.n, y0 + 1, h - 3, picker_row, box);
    if (h >= 3) ui_put(y0 + h - 2, x0 + 1, w - 2, UR_MUTED, "Enter choose, Esc back", 1);
}

/* A required reason is missing: say so and go to the field; returns 1 then. */
static int reason_missing(void)
{
    if (!ui_con.dlg.reason_required) return 0;
    const char *p = ui_con.dlg.reason;
    while (*p == ' ') p++;
    if (*p) return 0;
    ui_con.dlg.focus = DLG_FOCUS_REASON;
    ui_msg(UR_WARNING, "a reason or ticket is required (console.require_reason): type it, then Enter");
    return 1;
}

void ui_handle_dialog_key(int ch)
{
    ui_con.dirty = 1;
    if (ch == 27) {
        decline_dialog();
        return;
    }
    if (ch == KEY_UP) {
        ui_con.dlg.scroll = ui_con.dlg.scroll > 0 ? ui_con.dlg.scroll - 1 : 0;
        return;
    }
    if (ch == KEY_DOWN) {
        ui_con.dlg.scroll++;
        return;
    }
    if (ch == '\t' && ui_con.dlg.asks_reason) {
        ui_con.dlg.focus = ui_con.dlg.focus == DLG_FOCUS_REASON ? DLG_FOCUS_CONFIRM : DLG_FOCUS_REASON;
        return;
    }
    int enter = ch == '\n' || ch == '\r' || ch == KEY_ENTER;
    if (ui_con.dlg.focus == DLG_FOCUS_REASON) {
        if (enter) {
            if (!reason_missing()) ui_con.dlg.focus = DLG_FOCUS_CONFIRM;
        } else {
            ui_edit_field(ui_con.dlg.reason, sizeof ui_con.dlg.reason, ch);
        }
        return;
    }
    if (ui_con.dlg.typed) {
        if (enter) {
            if (reason_missing()) return;
            if (strcmp(ui_con.dlg.input, ui_con.dlg.expect) == 0 ||
                (ui_con.dlg.expect_alt[0] && strcmp(ui_con.dlg.input, ui_con.dlg.expect_alt) == 0)) {
                confirm_dialog();
            } else {
                ui_con.dlg.input[0] = '\0';
                ui_msg(UR_WARNING, "that does not match: type it exactly, or Esc to decline");
            }
        } else {
            ui_edit_field(ui_con.dlg.input, sizeof ui_con.dlg.input, ch);
        }
    } else if (ch == 'y' || ch == 'Y') {
        if (!reason_missing()) confirm_dialog();
    } else if (ch == 'n' || ch == 'N' || ch == 'q') {
        decline_dialog();
    }
}

void ui_handle_picker_key(int ch)
{
    if (ch == 27 || ch == 'q') {
        ui_con.pk.active = 0;
    } else if (ch == KEY_UP || ch == 'k' || ch == KEY_DOWN || ch == 'j') {
        ui_panel_move(&ui_con.pk.panel, ui_con.pk.n, ch == KEY_UP || ch == 'k' ? -1 : 1);
    } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        ui_con.pk.active = 0;
        ask_reset(ui_con.pk.learner, ui_con.pk.values[ui_con.pk.panel.sel]);
    }
    ui_con.dirty = 1;
}
