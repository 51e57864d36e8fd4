/* `retirectl reset`: bulk forced state update, retirement_bulk_status_update.py parity
 * (docs/lms-api.md §9.3, §12.4), plus --dry-run. Exit statuses: 0 done, 2 bad dates/usage,
 * 255 no config, 254 bad config or neither/both of --new-state/--rewind-state (checked AFTER
 * the fetch, as upstream), 253 fetch error or a learner skipped because it is being worked on
 * (one job per learner: engine/lease.h), 252 update error, 251 LMS setup failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/history_view.h"
#include "engine/job.h"
#include "engine/audit.h"
#include "engine/lease.h"

#define RESET_EXIT_NO_CONFIG 255
#define RESET_EXIT_BAD_CONFIG 254
#define RESET_EXIT_FETCHING 253
#define RESET_EXIT_UPDATING 252
#define RESET_EXIT_SETUP 251

#define RESET_MESSAGE "Force updated via retirement_bulk_status_update script"
#define RESET_BAD_DATE "Dates need to be in the format of YYYY-MM-DD and today or earlier."

static void usage(FILE *out)
{
    fprintf(out,
            "usage: retirectl reset --initial-state STATE (--new-state STATE | --rewind-state)\n"
            "                       --start-date YYYY-MM-DD --end-date YYYY-MM-DD\n"
            "                       [--dry-run] [--reason TEXT] [--config_file FILE] [--force]\n"
            "\n"
            "Force every learner whose retirement is in STATE and was requested between the two dates\n"
            "(inclusive) to a new state, as retirement_bulk_status_update.py does: --new-state sets the\n"
            "given state, --rewind-state sets each learner's previous state (its last_state). Updates are\n"
            "forced (no order check) with the response \"" RESET_MESSAGE "\".\n"
            "\n"
            "  --initial-state S   state to select (also --initial_state, $RETIREMENT_INITIAL_STATE)\n"
            "  --new-state T       state to set (also --new_state, $RETIREMENT_NEW_STATE)\n"
            "  --rewind-state      set each learner back to its last_state (also --rewind_state)\n"
            "  --start-date D      first day, YYYY-MM-DD, today or earlier (also --start_date)\n"
            "  --end-date D        last day, inclusive (also --end_date)\n"
            "  --dry-run           list what would change; send no update\n"
            "  --reason TEXT       why, for the audit log (the LMS gets the upstream message)\n"
            "  --force             also move learners in a working state changed less than\n"
            "                      step_timeout_seconds ago (they may be running on another host)\n"
            "\n"
            "A learner another retirectl on this host is working on, or (without --force) one in a fresh\n"
            "working state, is skipped and named; the others are updated, and the exit status is 253.\n"
            "\n"
            "Exit status: 0 done, 2 bad option or date, 255 no config file, 254 unreadable config or\n"
            "not exactly one of --new-state/--rewind-state, 253 fetching failed or a learner was skipped\n"
            "(being worked on), 252 an update failed\n"
            "(earlier updates stay), 251 LMS client or token setup failed.\n");
}

/* Validates a date as Python's strptime('%Y-%m-%d') does (4-digit year, 1-2 digit month and
 * day, a real calendar day), not after today (local time), and writes it as YYYY-MM-DD. */
static int parse_date(const char *text, char *out, size_t out_len)
{
    long days;
    if (cli_parse_ymd(text, &days) != 0) return -1;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char today[16], given[11];
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    cli_format_ymd(days, given);
    if (strcmp(given, today) > 0) return -1;
    snprintf(out, out_len, "%s", given);
    return 0;
}

/* The state name at learner[key].state_name, or NULL. */
static const char *state_name(const cJSON *learner, const char *key)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(learner, key);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, "state_name");
    return cJSON_IsString(n) ? n->valuestring : NULL;
}

/* A number member, or -1. */
static long long id_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}

static long long user_id_of(const cJSON *learner)
{
    return id_of(cJSON_GetObjectItemCaseSensitive(learner, "user"), "id");
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Writes the audit end line and reports (but does not override the status) a write failure. */
static int finish_audit(audit_log *audit, audit_entry *e, const cfg *config, const char *outcome,
                        int status, long long updated, long long total)
{
    if (!audit) return status;
    audit_count counts[] = {{"selected", total}, {"updated", updated}};
    e->outcome = outcome;
    e->exit_status = status;
    e->counts = counts;
    e->n_counts = total >= 0 ? 2 : 1;
    if (total < 0) counts[0] = counts[1];
    char err[1024];
    if (audit_end(audit, e, err, sizeof err) != 0) cli_error(config, "%s", err);
    e->counts = NULL;
    e->n_counts = 0;
    audit_close(audit);
    return status;
}

int cmd_reset(int argc, char **argv, const cli_globals *g)
{
    const char *initial = NULL, *new_state = NULL, *start = NULL, *end = NULL, *config_file = NULL,
               *reason = NULL;
    int rewind = 0, dry_run = 0, force = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int missing = 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if ((v = cli_opt_value(argc, argv, &i, "--initial-state", &missing))) {
            initial = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--new-state", &missing))) {
            new_state = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--start-date", &missing))) {
            start = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--end-date", &missing))) {
            end = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--config-file", &missing))) {
            config_file = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--reason", &missing))) {
            reason = v;
        } else if (cli_opt_flag(argv[i], "--rewind-state")) {
            rewind = 1;
        } else if (cli_opt_flag(argv[i], "--dry-run")) {
            dry_run = 1;
        } else if (cli_opt_flag(argv[i], "--force")) {
            force = 1;
        } else {
            if (!missing) fprintf(stderr, "retirectl reset: unknown option '%s' (see retirectl reset --help)\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
        if (missing) return CLI_EXIT_USAGE;
    }
    initial = cli_env_default(initial, "RETIREMENT_INITIAL_STATE");
    new_state = cli_env_default(new_state, "RETIREMENT_NEW_STATE");
    start = cli_env_default(start, "RETIREMENT_START_DATE");
    end = cli_env_default(end, "RETIREMENT_END_DATE");
    config_file = cli_env_default(config_file, "RETIREMENT_CONFIG_FILE");
    if (!rewind) {
        const char *r = getenv("RETIREMENT_REWIND_STATE");
        rewind = r && (strcmp(r, "1") == 0 || strcasecmp(r, "true") == 0 || strcasecmp(r, "yes") == 0);
    }

    /* dates are checked while the options are parsed, before anything else (click callbacks) */
    char start_d[32], end_d[32];
    const char *which[2] = {"--start-date", "--end-date"};
    const char *vals[2] = {start, end};
    char *outs[2] = {start_d, end_d};
    for (int k = 0; k < 2; k++) {
        if (!vals[k]) {
            /* upstream: the click callback runs strptime(None), whose TypeError is uncaught: exit 1 */
            fprintf(stderr,
                    "Usage: retirectl reset [OPTIONS]\nError: Missing option '%s': " RESET_BAD_DATE "\n",
                    which[k]);
            return 1;
        }
        if (parse_date(vals[k], outs[k], 32) != 0) {
            fprintf(stderr, "Usage: retirectl reset [OPTIONS]\nError: Invalid value for '%s': " RESET_BAD_DATE "\n",
                    which[k]);
            return CLI_EXIT_USAGE;
        }
    }
    /* No --initial-state: upstream sends the fetch without a `state` parameter (requests drops
     * None); the LMS answers 400 "Missing required parameter: 'state'" and the run ends with
     * ERR_FETCHING (253). Kept as is so the requests and the exit status match. */

    /* upstream logs this first, before the config is checked (None when no --config_file) */
    printf("Starting bulk update script: Config: %s\n", config_file     ? config_file
                                                         : g && g->config_path ? g->config_path
                                                                               : "None");
    fflush(stdout);
    char *path = cli_config_path(g, config_file);
    /* only the XDG default, and it does not exist: nothing was passed in */
    if (path && !config_file && !(g && g->config_path) && access(path, F_OK) != 0) {
        free(path);
        path = NULL;
    }
    if (!path) {
        cli_error(NULL, "No config file passed in.");
        return RESET_EXIT_NO_CONFIG;
    }
    char err[2048] = "";
    cfg *config = NULL;
    if (cfg_load(path, &config, err, sizeof err) != 0) {
        cli_error(NULL, "Failed to read config file %s: %s", path, err);
        free(path);
        return RESET_EXIT_BAD_CONFIG;
    }
    cli_config_warnings(config);

    /* the audit log must be writable before anything is changed */
    audit_log *audit = NULL;
    audit_entry ae;
    audit_entry_init(&ae, "reset");
    ae.reason = reason;
    ae.from_state = initial;
    ae.to_state = rewind && !new_state ? "(last_state)" : new_state;
    char detail[128];
    snprintf(detail, sizeof detail, "created %s..%s", start_d, end_d);
    ae.detail = detail;
    if (!dry_run) {
        if (audit_open(config, g ? g->operator_name : NULL, &audit, err, sizeof err) != 0 ||
            audit_begin(audit, &ae, err, sizeof err) != 0) {
            cli_error(config, "%s", err);
            audit_close(audit);
            cfg_free(config);
            free(path);
            return RESET_EXIT_SETUP;
        }
    }

    int status = 0;
    http_client *http = http_client_new(config, err, sizeof err);
    lms_client *lms = NULL;
    const char *base = cfg_string(config, "base_urls.lms");
    if (!http || !base || !(lms = lms_new(http, base)) || http_ensure_token(http, err, sizeof err) != 0) {
        if (!base) snprintf(err, sizeof err, "base_urls.lms is missing in %s", path);
        cli_error(config, "Unexpected error occurred! %s", err);
        status = finish_audit(audit, &ae, config, "failed", RESET_EXIT_SETUP, 0, -1);
        goto out;
    }

    printf("Fetching users in state %s created from %s to %s\n", initial ? initial : "None", start_d, end_d);
    fflush(stdout);
    cJSON *learners = NULL;
    lms_error le;
    memset(&le, 0, sizeof le);
    if (lms_by_status_and_date(lms, initial, start_d, end_d, &learners, &le) != 0 || !cJSON_IsArray(learners)) {
        cli_error(config, "Unexpected error occurred fetching users to update! %s", le.message);
        lms_error_clear(&le);
        cJSON_Delete(learners);
        status = finish_audit(audit, &ae, config, "failed", RESET_EXIT_FETCHING, 0, -1);
        goto out;
    }
    long long total = cJSON_GetArraySize(learners);

    if ((new_state && *new_state && rewind) || (!(new_state && *new_state) && !rewind)) {
        cli_error(config, "You must specify either the boolean rewind_state or a new state to set learners to.");
        cJSON_Delete(learners);
        status = finish_audit(audit, &ae, config, "refused", RESET_EXIT_BAD_CONFIG, 0, total);
        goto out;
    }

    printf("%s %lld learners to %s\n", dry_run ? "Would update" : "Updating", total,
           rewind ? "None" : new_state); /* upstream logs the new_state option: None when rewinding */
    fflush(stdout);
    long long updated = 0, skipped = 0;
    job_recorder *hist = dry_run ? NULL : job_recorder_new(config, NULL, NULL); /* docs/history.md */
    const cJSON *learner;
    cJSON_ArrayForEach(learner, learners)
    {
        const char *username = str_of(learner, "original_username");
        const char *target = rewind ? state_name(learner, "last_state") : new_state;
        const char *current = state_name(learner, "current_state");
        if (dry_run) {
            printf("would move %s (user id %lld) from %s to %s\n", username ? username : "(no original_username)",
                   user_id_of(learner), current ? current : initial, target ? target : "(no last_state)");
            continue;
        }
        audit_entry item;
        audit_entry_init(&item, "reset");
        item.reason = reason;
        item.user_id = user_id_of(learner);
        item.retirement_id = id_of(learner, "id");
        item.from_state = current ? current : initial;
        item.to_state = target;
        const char *pii[] = {username ? username : "", str_of(learner, "original_email"),
                             str_of(learner, "original_name"), NULL};
        if (!pii[1]) pii[1] = "";
        if (!pii[2]) pii[2] = "";
        item.pii = pii;
        if (!username || !target) {
            cli_error(config, "Unexpected error occurred updating users! Learner with retirement id %lld has no %s.",
                      item.retirement_id, !username ? "original_username" : "last_state.state_name");
            item.outcome = "failed";
            item.exit_status = RESET_EXIT_UPDATING;
            audit_item(audit, &item, err, sizeof err);
            status = RESET_EXIT_UPDATING;
            break;
        }
        /* one job per learner: never move a learner another job is working on */
        lease *held = NULL;
        lease_holder h;
        char why[1024] = "";
        int lr = lease_acquire(NULL, cfg_string(config, "base_urls.lms"), username, "retirectl reset", &held, &h, why, sizeof why);
        double age = 0;
        if (lr > 0) {
            char who[640];
            lease_describe(&h, who, sizeof who);
            snprintf(why, sizeof why, "being worked on by %s", who);
        } else if (lr == 0 && !force && lease_fresh_working_state(learner, config, &age)) {
            snprintf(why, sizeof why,
                     "in the working state %s, changed %.0f s ago: it may be running on another host (--force moves it "
                     "anyway)",
                     current ? current : "?", age < 0 ? 0 : age);
            lr = 1;
        }
        if (lr != 0) {
            cli_error(config, "skipped %s: %s", username, why);
            lease_release(held);
            item.outcome = "refused";
            item.detail = why;
            item.exit_status = CLI_EXIT_WORKING_STATE;
            audit_item(audit, &item, err, sizeof err);
            skipped++;
            continue;
        }
        int urc = lms_update_state(lms, username, target, RESET_MESSAGE, 1, &le);
        lease_release(held);
        cli_hist_reset_item(hist, config, learner, item.from_state, target, urc != 0 ? &le : NULL, reason);
        if (urc != 0) {
            cli_error(config, "Unexpected error occurred updating users! %s", le.message);
            item.outcome = "failed";
            item.detail = le.message;
            item.exit_status = RESET_EXIT_UPDATING;
            audit_item(audit, &item, err, sizeof err);
            lms_error_clear(&le);
            status = RESET_EXIT_UPDATING;
            break;
        }
        item.outcome = "updated";
        if (audit_item(audit, &item, err, sizeof err) != 0) {
            /* the update was made; stop before the next one since it could not be recorded */
            cli_error(config, "%s; stopping after %lld updates", err, updated + 1);
            updated++;
            status = RESET_EXIT_UPDATING;
            break;
        }
        updated++;
    }
    job_recorder_free(hist);
    cJSON_Delete(learners);
    if (dry_run) {
        printf("Dry run: %lld learner%s in %s would be updated; nothing was sent.\n", total, total == 1 ? "" : "s",
               initial ? initial : "None");
        status = 0;
        goto out;
    }
    if (status == 0 && skipped) {
        fprintf(stderr, "retirectl: %lld learner%s skipped (being worked on); the other %lld were updated.\n", skipped,
                skipped == 1 ? "" : "s", updated);
        status = RESET_EXIT_FETCHING;
    } else if (status == 0) {
        printf("Bulk update complete\n");
        fflush(stdout);
    } else {
        fprintf(stderr, "retirectl: %lld of %lld learners were updated before the error.\n", updated, total);
    }
    status = finish_audit(audit, &ae, config, status == 0 ? "ok" : "failed", status, updated, total);

out:
    if (dry_run) audit_close(audit);
    if (lms) lms_free(lms);
    if (http) http_client_free(http);
    cfg_free(config);
    free(path);
    return status;
}
