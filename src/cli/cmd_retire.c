/* `retirectl retire USER`: retire one learner exactly as retire_one_learner.py (spec §9.1),
 * in a supervised worker process; `--dry-run` is `plan`; `--all` is ops' retire_all_main. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/learner_args.h"
#include "engine/audit.h"
#include "engine/job.h"

/* Implemented by "ops" in src/cli/retire_all.c; weak so a build without it still links. */
int retire_all_main(int argc, char **argv, const cli_globals *g) __attribute__((weak));

static void usage(FILE *out)
{
    fputs("usage: retirectl retire USER [--config_file FILE] [--dry-run] [--events]\n"
          "       retirectl retire --username USER --config_file FILE\n"
          "       retirectl retire --all [-j N] ...   (see retirectl retire --all --help)\n"
          "\n"
          "Retires one learner as retire_one_learner.py does: reads the learner's retirement status,\n"
          "runs every pipeline step not completed in a previous run (PATCH start state, call the\n"
          "driver, PATCH end state), then sets COMPLETE; on a failure sets ERRORED with the reason.\n"
          "\n"
          "  USER, --username U     the learner's original username (also $RETIREMENT_USERNAME)\n"
          "  --config_file F        the retirement config (also --config, $RETIREMENT_CONFIG_FILE)\n"
          "  --dry-run              show what would run, skip or fail and the requests; change nothing\n"
          "  --events               print the JSON-lines job events (docs/events.md) on stdout\n"
          "  --reason TEXT          why (kept in the audit log)\n"
          "\n"
          "Output: one line per step on stdout; the upstream log lines on stderr, prefixed\n"
          "'Learner Retirement: '. Ctrl-C lets the step in flight finish, then stops.\n"
          "Exit status: 0 done, 255 setup failed, 254 learner in an end state, 253 in a working state,\n"
          "252 error while retiring (learner ERRORED), 251 learner not found or bad record,\n"
          "250 unknown state, 249 bad or missing config, 130 cancelled.\n",
          out);
}

int cli_retire_one(const cli_globals *g, const char *username, const char *config_file, int dry_run, int events,
                   const char *reason)
{
    cli_event_printer pr;
    memset(&pr, 0, sizeof pr);
    pr.events = events;
    pr.log_prefix = "Learner Retirement: ";
    pr.dry_run = dry_run;
    char *shown_path = cli_config_path(g, config_file);
    if (!events)
        fprintf(stderr, "Learner Retirement: Starting learner retirement for %s using config file %s\n",
                cli_inert_tmp(username), shown_path ? cli_inert_tmp(shown_path) : "None");
    free(shown_path);

    cli_ctx ctx;
    int rc = cli_open(&ctx, g, config_file, CLI_NEED_LMS | CLI_NEED_REG);
    if (rc) return rc;
    char err[4096] = "";
    /* upstream: a missing service URL and a failed client set-up are ERR_SETUP_FAILED */
    if (cfg_validate(ctx.config, err, sizeof err) != 0) {
        cli_error(ctx.config, "%s", err);
        cli_close(&ctx);
        return CLI_EXIT_SETUP;
    }
    audit_log *audit = NULL;
    audit_entry ae;
    const char *pii[] = {username, NULL};
    if (!dry_run) {
        if (audit_open(ctx.config, g->operator_name, &audit, err, sizeof err) != 0) {
            cli_error(ctx.config, "%s; nothing was done for %s", err, username);
            cli_close(&ctx);
            return CLI_EXIT_SETUP;
        }
        audit_entry_init(&ae, "retire");
        ae.reason = reason;
        ae.pii = pii;
        if (audit_begin(audit, &ae, err, sizeof err) != 0) {
            cli_error(ctx.config, "%s; nothing was done for %s", err, username);
            audit_close(audit);
            cli_close(&ctx);
            return CLI_EXIT_SETUP;
        }
    }
    job_ctx *jc = job_ctx_new_with(ctx.config, ctx.http, ctx.lms, ctx.registry, err, sizeof err);
    int status;
    if (!jc) {
        cli_error(ctx.config, "Unexpected error occurred! %s", err);
        status = CLI_EXIT_SETUP;
    } else if (job_ctx_prepare(jc, err, sizeof err) != 0) {
        cli_error(ctx.config, "Unexpected error occurred!\n%s", err);
        status = CLI_EXIT_SETUP;
    } else {
        static volatile int cancel;
        cancel = 0;
        cli_install_cancel_handlers(&cancel);
        job_spec spec;
        memset(&spec, 0, sizeof spec);
        spec.username = username;
        spec.action = dry_run ? JOB_PLAN : JOB_RETIRE;
        spec.dry_run = dry_run;
        status = job_run(jc, &spec, cli_print_event, &pr, &cancel, err, sizeof err);
        if (err[0] && status == 255 && !pr.final_state && !pr.current_state) cli_error(ctx.config, "%s", err);
    }
    if (audit) {
        audit_step steps[64];
        for (size_t i = 0; i < pr.n_steps; i++) {
            steps[i].driver = pr.step_driver[i];
            steps[i].method = pr.step_method[i];
            steps[i].status = pr.step_status[i];
        }
        ae.steps = steps;
        ae.n_steps = pr.n_steps;
        ae.from_state = pr.current_state;
        ae.to_state = pr.final_state;
        ae.exit_status = status;
        ae.outcome = status == 0 ? "complete"
                     : status == 252 ? "errored"
                     : status == JOB_EXIT_CANCELLED ? "cancelled"
                                                    : "refused";
        if (audit_end(audit, &ae, err, sizeof err) != 0) {
            cli_error(ctx.config, "%s (the retirement itself finished with exit status %d)", err, status);
            if (status == 0) status = CLI_EXIT_SETUP;
        }
        audit_close(audit);
    }
    job_ctx_free(jc);
    cli_event_printer_free(&pr);
    cli_close(&ctx);
    return status;
}

int cmd_retire(int argc, char **argv, const cli_globals *g)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--all") == 0) {
            if (!retire_all_main) {
                fprintf(stderr, "retirectl retire: --all is not part of this build\n");
                return CLI_EXIT_USAGE;
            }
            return retire_all_main(argc, argv, g);
        }
    }
    static const cli_learner_cmd cmd = {"retire", CLI_LA_EVENTS | CLI_LA_DRY_RUN | CLI_LA_REASON | CLI_LA_ENV_USERNAME,
                                        usage, "; use retire --all for the queue",
                                        "pass USER, --username USER or set RETIREMENT_USERNAME"};
    cli_learner_args a;
    int rc = cli_parse_learner_args(argc, argv, g, &cmd, &a);
    if (rc >= 0) return rc;
    return cli_retire_one(g, a.username, a.config_file, a.dry_run, a.events, a.reason);
}
