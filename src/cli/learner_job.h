/* learner_job (prefix cli_): what `rerun` and `resume` share around the one job they run for
 * one learner: their shared options, the operator's confirmation, the set-up and tear-down
 * (cli_learner_run: lease, record, cross-host rule), running the job, the steps seen in its
 * events (for the audit log), and field lookups in the learner's retirement status record. */
#ifndef RETIRECTL_CLI_LEARNER_JOB_H
#define RETIRECTL_CLI_LEARNER_JOB_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/cmd_entry.h"
#include "cli/common.h"
#include "engine/audit.h"
#include "engine/config.h"
#include "engine/ev.h"
#include "engine/job.h"

/* Steps seen in a job's events (cli_step_log_free). */
typedef struct cli_step_log {
    audit_steps steps;
    int events;         /* the caller prints raw events */
    char result[1024];  /* the result event's message */
    char outcome[32];   /* the result event's outcome word (for the audit log: the same word) */
} cli_step_log;

/* Prints the raw event line when s->events, and records ev when it ends a step (done / failed,
 * and skipped when with_skipped) or is the result. Returns 1 when ev ended a step. */
int cli_step_log_note(cli_step_log *s, const ev_event *ev, const char *line, int with_skipped);
void cli_step_log_free(cli_step_log *s);

/* The options rerun and resume share: their entries' .shared_opts (--reason, --config_file,
 * --yes/-y, --events, --json, --force). */
extern const cli_opt cli_operator_options[];
/* What those options say on a parsed line. Strings are borrowed from argv. */
typedef struct cli_operator_opts {
    const char *reason;      /* --reason TEXT */
    const char *config_file; /* --config_file / --config-file / --config FILE */
    int yes;                 /* --yes / -y */
    int events;              /* --events, --json or the global --json */
    int force;               /* --force: skip the cross-host freshness rule (cli_check_fresh) */
} cli_operator_opts;
/* Reads cli_operator_options from a (whose entry declares them as its shared_opts). */
void cli_operator_of(const cli_args *a, const cli_globals *g, cli_operator_opts *o);

/* Asks on the terminal (1 = go ahead); production environments need the username typed.
 * yes skips the question; without a terminal it refuses, printing the question and saying to
 * use --yes; a "no" says nothing was done (callers print nothing more). */
int cli_confirm(const cfg *config, const char *question, const char *username, int yes);

struct cli_ctx;
struct job_ctx;
/* A job context over the command's clients with the LMS token fetched; NULL after saying why
 * (the caller exits CLI_EXIT_SETUP). Free with job_ctx_free. */
struct job_ctx *cli_job_ctx_open(struct cli_ctx *ctx);
/* GETs the learner's retirement status into *learner (caller frees): 0, or the exit status
 * after saying why (CLI_EXIT_BAD_LEARNER when not found, CLI_EXIT_SETUP otherwise). */
int cli_fetch_learner(struct cli_ctx *ctx, const char *username, cJSON **learner);

/* Fills the audit entry's learner fields from the status record: user_id, retirement_id and
 * the PII to keep out of the log (username, original username/e-mail/name, current e-mail),
 * listed in pii (7 slots, which must outlive the entry). */
void cli_audit_learner(audit_entry *ae, const cJSON *learner, const char *username, const char *pii[7]);
/* audit_open + audit_begin for the command's config and operator: 0, or CLI_EXIT_SETUP after
 * saying why (nothing may be done then). */
int cli_audit_start(struct cli_ctx *ctx, const cli_globals *g, const audit_entry *ae, audit_log **audit);
/* Runs spec (username, action, label, ...: its reason is set here) in jc as the operator of g
 * with reason, SIGINT/SIGTERM cancelling it, each event going to on_event with steps; says
 * job_run's own set-up error. The exit status (the caller writes the audit end line). */
int cli_run_learner_job(const cfg *config, const cli_globals *g, job_ctx *jc, job_spec *spec, const char *reason,
                        job_event_fn on_event, cli_step_log *steps);
/* Writes the audit end line of a job the command ran (status: its exit status): the steps, the
 * job's own outcome word as printed, and its result message when it failed. */
void cli_audit_job_end(const cfg *config, audit_log *audit, audit_entry *ae, const cli_step_log *steps, int status);

struct lease;
/* Takes the learner's lease (one job per learner, engine/lease.h) for command (e.g. "retirectl
 * retire"): 0 with *out (lease_release it when done), or CLI_EXIT_WORKING_STATE after saying who
 * holds it (with events, also as a `result` event on stdout), or CLI_EXIT_SETUP after saying
 * why the lease file cannot be made. Nothing may be done for the learner unless it returns 0. */
int cli_take_lease(const cfg *config, const char *username, const char *command, int events, struct lease **out);
/* The cross-host rule for resume, rerun and reset: 0, or CLI_EXIT_WORKING_STATE after saying
 * that the learner is in a working state changed less than step_timeout_seconds ago (it may be
 * running on another host) and that --force overrides (with events also as a `result` event).
 * force skips the check. */
int cli_check_fresh(const cfg *config, const cJSON *learner, const char *username, int force, int events);

/* What resume and rerun hold while they work on one learner (cli_learner_run_close frees it). */
typedef struct cli_learner_run {
    cli_ctx ctx;
    job_ctx *jc;         /* cli_job_ctx_open, or NULL */
    struct lease *held;  /* the learner's lease, or NULL */
    cJSON *learner;      /* its retirement status record, or NULL */
    const char *current; /* its current state (in learner) */
    audit_log *audit;    /* the audit log once started, or NULL */
    cli_step_log steps;  /* the steps seen in the job's events */
} cli_learner_run;
/* cli_open for the command's config (need: CLI_NEED_*), with nothing else held yet and the
 * steps printing raw events when o says --events. 0, or the exit status (r is closed). */
int cli_learner_run_open(cli_learner_run *r, const cli_globals *g, const cli_operator_opts *o, unsigned need);
/* Before a job for one learner: takes its lease for command (cli_take_lease), fetches its
 * record (cli_fetch_learner), applies the cross-host rule (cli_check_fresh, with o's --force
 * and --events) and reads its current state into r. 0, or the exit status after saying why. */
int cli_learner_hold(cli_learner_run *r, const char *username, const char *command, const cli_operator_opts *o);
/* Releases and frees what r holds, then closes its context. */
void cli_learner_run_close(cli_learner_run *r);

/* learner[key].state_name ("current_state", "last_state"), or NULL. */
const char *cli_learner_state(const cJSON *learner, const char *key);

#endif
