/* `retirectl cleanup`: archive COMPLETE retirements older than the cool-off window to S3, then
 * delete their rows from the LMS (retirement_archive_and_cleanup.py parity, docs/operators.md
 * "Archiving and cleaning up"). Rows are deleted only after their archive object is confirmed;
 * a rerun after any interruption picks up what is still there.
 * Exit statuses as upstream: 0 done, 2 bad option, 255 no config, 254 bad config (also bad
 * s3_archive settings), 253 fetching failed, 252 archiving/upload failed, 251 LMS setup, audit
 * log or deletion failed, 250 bad dates; 130 stopped by a signal (after the batch in flight). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/cmd_entry.h"
#include "cli/common.h"
#include "cli/learner_args.h"
#include "engine/archive.h"
#include "engine/audit.h"
#include "engine/s3.h"
#include "common/json.h"
#include "common/xalloc.h"

#define CLEANUP_EXIT_NO_CONFIG 255
#define CLEANUP_EXIT_BAD_CONFIG 254
#define CLEANUP_EXIT_FETCHING 253
#define CLEANUP_EXIT_ARCHIVING 252
#define CLEANUP_EXIT_DELETING 251 /* also ERR_SETUP_FAILED upstream */
#define CLEANUP_EXIT_BAD_DATES 250
#define CLEANUP_EXIT_CANCELLED 130

#define DEFAULT_COOL_OFF_DAYS 37 /* upstream: 7 days before retirement, 30 after */
#define DEFAULT_START_DATE "2018-01-01"
#define DEFAULT_BATCH_DELAY 10 /* upstream's DELAY between batches, seconds */
#define NOT_ALL_COMPLETE "Not all usernames exist in the COMPLETE state."

static volatile sig_atomic_t cleanup_cancel;

static const cli_opt cleanup_options[] = {
    {"--cool-off-days", "N", "only retirements at least N days old (default 37)", 0, "RETIREMENT_COOL_OFF_DAYS"},
    {"--start-date", "YYYY-MM-DD", "first day of the window (default 2018-01-01)", 0, "RETIREMENT_START_DATE"},
    {"--end-date", "YYYY-MM-DD", "last day (default: today minus the cool-off days; a later day\nis refused)", 0,
     "RETIREMENT_END_DATE"},
    {"--batch-size", "N", "learners per archive object and cleanup call (default: all in one)", 0,
     "RETIREMENT_BATCH_SIZE"},
    {"--batch-delay", "SECONDS", "pause between batches (default 10 s, as upstream)", 0, NULL},
    {"--dry-run", NULL,
     "print the archive and the key it would go to; upload and delete nothing\n"
     "(also --dry_run True, as upstream)",
     CLI_OPT_BOOL, "RETIREMENT_DRY_RUN"},
    {"--reason", "TEXT", "why, for the audit log", 0, NULL},
    {"--config_file|--config", "FILE", "the retirement config", 0, "RETIREMENT_CONFIG_FILE"},
    {"--hash", "VALUE",
     "print VALUE's hash as s3_archive.fields: hashed stores it, to look up a\n"
     "known username, email or name in a hashed archive",
     CLI_OPT_NO_USAGE, NULL},
    CLI_OPT_END,
};

static int cleanup_exec(const cli_args *a, const cli_globals *g);

const cli_cmd_entry cmd_cleanup_entry = {
    .name = "cleanup",
    .summary = "archive COMPLETE retirements to S3, then delete them (retirement_archive_and_cleanup.py)",
    .more_usage = "retirectl cleanup --hash VALUE",
    .about = "Archive the retirements in state COMPLETE that were requested between the two dates to the S3\n"
             "bucket s3_archive.bucket_name (gzip'd JSON lines under raw/YYYY/MM/retirement_archive_<time>.json.gz),\n"
             "then delete them from the LMS with retirement_cleanup, one batch at a time, as\n"
             "retirement_archive_and_cleanup.py does. A batch is deleted only after its archive is confirmed in\n"
             "the bucket; a failed upload deletes nothing, and a rerun picks up whatever is left.\n",
    .opts = cleanup_options,
    .epilogue = "Exit status: 0 done, 2 bad option, 255 no config file, 254 unreadable config or bad s3_archive\n"
                "settings, 253 fetching failed, 252 archiving or upload failed (nothing of that batch deleted),\n"
                "251 LMS setup, audit log or deletion failed, 250 dates outside the cool-off rule, 130 stopped by\n"
                "a signal after the batch in flight.\n",
    .exec = cleanup_exec,
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One progress line on stdout, flushed (the upstream script's LOG lines). */
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* s3 backoff lines go where the progress lines go. */
static void on_s3_log(void *user, const char *line)
{
    (void)user;
    say("%s", line);
}

/* Everything one run works with. */
typedef struct run {
    cfg *config;
    http_client *http;
    lms_client *lms;
    s3_client *s3;
    audit_log *audit;
    archive_fields fields;
    const char *hash_secret;
    const char *reason;
    int dry_run;
    char start[11], end[11];
    time_t last_archive_time; /* object names are per second: never reuse one within a run */
    long long archived, deleted;
} run;

/* Usernames of a batch (borrowed strings; the array is malloc'd). NULL when one has none. */
static const char **batch_usernames(const cJSON *batch, size_t *n, long long *bad_id)
{
    size_t count = (size_t)cJSON_GetArraySize(batch);
    const char **names = xcalloc(count + 1, sizeof *names);
    size_t i = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, batch)
    {
        names[i] = json_str(l, "original_username");
        if (!names[i]) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(l, "id");
            *bad_id = cJSON_IsNumber(id) ? (long long)id->valuedouble : -1;
            free(names);
            return NULL;
        }
        i++;
    }
    *n = count;
    return names;
}

/* After "Not all usernames exist in the COMPLETE state.": which of names are still COMPLETE rows
 * in the window (an earlier attempt whose answer was lost, or another run, deleted the others).
 * Returns the count kept in names (compacted), or -1 when the refetch failed. */
static long still_present(run *r, const char **names, size_t n, char *err, size_t err_len)
{
    cJSON *now = NULL;
    lms_error le;
    if (lms_by_status_and_date(r->lms, "COMPLETE", r->start, r->end, &now, &le) != 0) {
        snprintf(err, err_len, "%s", le.message);
        lms_error_clear(&le);
        return -1;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        const cJSON *l;
        int found = 0;
        cJSON_ArrayForEach(l, now)
        {
            const char *u = json_str(l, "original_username");
            if (u && !strcmp(u, names[i])) found = 1;
        }
        if (found) names[kept++] = names[i];
    }
    cJSON_Delete(now);
    return (long)kept;
}

/* POST retirement_cleanup for an archived batch. A 400 "not all COMPLETE" is answered by
 * deleting only the rows still there, so a rerun or a lost answer never double-deletes.
 * Returns 0 with *deleted, or -1 with err. */
static int delete_batch(run *r, const cJSON *batch, long long *deleted, char *err, size_t err_len)
{
    *deleted = 0;
    size_t n = 0;
    long long bad_id = -1;
    const char **names = batch_usernames(batch, &n, &bad_id);
    if (!names) {
        snprintf(err, err_len, "the LMS's record of retirement id %lld has no original_username", bad_id);
        return -1;
    }
    lms_error le;
    int rc = lms_cleanup(r->lms, names, n, &le);
    if (rc != 0 && le.status == 400 && le.body && strstr(le.body, NOT_ALL_COMPLETE)) {
        lms_error_clear(&le);
        long kept = still_present(r, names, n, err, err_len);
        if (kept < 0) {
            free(names);
            return -1;
        }
        say("%zu of the %zu learners of this batch were already deleted; cleaning up the %ld still there", n - (size_t)kept,
            n, kept);
        n = (size_t)kept;
        rc = n ? lms_cleanup(r->lms, names, n, &le) : 0;
    }
    if (rc != 0) {
        snprintf(err, err_len, "%s", le.message);
        lms_error_clear(&le);
        free(names);
        return -1;
    }
    *deleted = (long long)n;
    free(names);
    return 0;
}

/* Writes the batch's audit line: counts and object key, never a name. */
static void audit_batch(run *r, int index, const char *uri, const char *outcome, int status, long long learners,
                        long long archived, long long deleted, const char *detail)
{
    if (!r->audit) return;
    audit_entry e;
    audit_entry_init(&e, "cleanup");
    e.reason = r->reason;
    e.to_state = "(deleted)";
    e.from_state = "COMPLETE";
    audit_count counts[] = {{"batch", index}, {"learners", learners}, {"archived", archived}, {"deleted", deleted}};
    e.counts = counts;
    e.n_counts = 4;
    e.outcome = outcome;
    e.exit_status = status;
    char text[1400];
    snprintf(text, sizeof text, "%s%s%.1000s", uri, detail ? "; " : "", detail ? detail : "");
    e.detail = text;
    char err[1024];
    if (audit_item(r->audit, &e, err, sizeof err) != 0) cli_error(r->config, "%s", err);
}

/* A fresh archive time: now, but never the same second as the previous object of this run. */
static time_t archive_time(run *r)
{
    time_t t = time(NULL);
    while (t <= r->last_archive_time) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        t = time(NULL);
    }
    r->last_archive_time = t;
    return t;
}

/* Archives, uploads and (after a confirmed upload) deletes one batch. Returns 0 or an exit status. */
static int process_batch(run *r, const cJSON *batch, int index)
{
    long long count = cJSON_GetArraySize(batch);
    say("Archiving retirements for %lld learners to %s", count, s3_bucket(r->s3));
    time_t t = archive_time(r);
    char file[96], key[160], uri[512], err[2048];
    archive_file_name(t, file, sizeof file);
    archive_object_key(t, key, sizeof key);
    s3_object_uri(r->s3, key, uri, sizeof uri);
    say("Creating retirement archive file %s", file);
    char *lines = NULL;
    size_t lines_len = 0;
    unsigned char *gz = NULL;
    size_t gz_len = 0;
    char inner[96];
    snprintf(inner, sizeof inner, "%.*s", (int)(strlen(file) - 3), file); /* the name without ".gz" */
    if (archive_lines(batch, r->fields, r->hash_secret, &lines, &lines_len, err, sizeof err) != 0 ||
        archive_gzip(lines, lines_len, inner, t, &gz, &gz_len, err, sizeof err) != 0) {
        cli_error(r->config, "Unexpected error occurred archiving retirements! %s", err);
        audit_batch(r, index, uri, "archive failed", CLEANUP_EXIT_ARCHIVING, count, 0, 0, err);
        free(lines);
        return CLEANUP_EXIT_ARCHIVING;
    }
    if (r->dry_run) {
        say("Dry run. Logging the contents of %s for debugging", file);
        cli_print_scrubbed(r->config, lines);
        say("Dry run. Skipping the step to upload data to %s", key);
        say("This is a dry-run. Exiting before any retirements are cleaned up");
        free(lines);
        free(gz);
        return 0;
    }
    free(lines);
    s3_result res;
    int rc = s3_put_object(r->s3, key, gz, gz_len, "application/gzip", &res);
    free(gz);
    if (rc != 0) {
        cli_error(r->config, "Unexpected error occurred archiving retirements! %s. Nothing of this batch was deleted.",
                  res.message);
        audit_batch(r, index, uri, "upload failed", CLEANUP_EXIT_ARCHIVING, count, 0, 0, res.message);
        return CLEANUP_EXIT_ARCHIVING;
    }
    say("Successfully uploaded retirement data to %s", key);
    r->archived += count;

    say("Cleaning up retirements for %lld learners", count);
    long long deleted = 0;
    if (delete_batch(r, batch, &deleted, err, sizeof err) != 0) {
        cli_error(r->config,
                  "Unexpected error occurred deleting retirements! %s. The batch is archived in %s; run cleanup "
                  "again to delete it (it will be archived once more).",
                  err, uri);
        audit_batch(r, index, uri, "archived, not deleted", CLEANUP_EXIT_DELETING, count, count, 0, err);
        return CLEANUP_EXIT_DELETING;
    }
    r->deleted += deleted;
    audit_batch(r, index, uri, "deleted", 0, count, count, deleted, NULL);
    say("Archive and cleanup complete for batch #%d", index);
    return 0;
}

/* Options of one run, from the command line or RETIREMENT_* variables. */
typedef struct options {
    const char *cool_off, *start, *end, *batch_size, *batch_delay, *config_file, *reason, *hash;
    int dry_run;
} options;

/* Reads the parsed line (the RETIREMENT_* variables fill what it does not give) into o. */
static void read_options(const cli_args *a, options *o)
{
    memset(o, 0, sizeof *o);
    o->cool_off = cli_args_get(a, "--cool-off-days");
    o->start = cli_args_get(a, "--start-date");
    o->end = cli_args_get(a, "--end-date");
    o->batch_size = cli_args_get(a, "--batch-size");
    o->batch_delay = cli_args_get(a, "--batch-delay");
    o->config_file = cli_args_get(a, "--config_file");
    o->reason = cli_args_get(a, "--reason");
    o->hash = cli_args_get(a, "--hash");
    o->dry_run = cli_args_has(a, "--dry-run") > 0; /* given (true or false), else $RETIREMENT_DRY_RUN */
}

/* Validates the window (upstream's rule: the end day may not be newer than now minus the
 * cool-off days, and start must be before end). Fills r->start / r->end. 0 or an exit status. */
static int window(run *r, const options *o, long cool_off)
{
    long start_day, end_day;
    const char *start = o->start ? o->start : DEFAULT_START_DATE;
    const char *which = NULL;
    if (cli_parse_ymd(start, &start_day) != 0) which = "--start-date";
    else if (o->end && cli_parse_ymd(o->end, &end_day) != 0) which = "--end-date";
    if (which) {
        fprintf(stderr, "Usage: retirectl cleanup [OPTIONS]\nError: Invalid value for '%s': '%s' does not match the "
                        "format '%%Y-%%m-%%d'.\n", which, which[2] == 's' ? start : o->end);
        return CLI_EXIT_USAGE;
    }
    long long now = (long long)time(NULL);
    long long max_end = now - (long long)cool_off * 86400; /* a moment, not a day, as upstream */
    long long end_moment;
    if (o->end) {
        end_moment = (long long)end_day * 86400;
        if (end_moment > max_end) {
            char latest[11];
            cli_format_ymd((long)(max_end / 86400), latest);
            cli_error(r->config, "End date cannot occur within the cool_off_days period (the latest allowed with "
                                 "--cool-off-days %ld is %s)", cool_off, latest);
            return CLEANUP_EXIT_BAD_DATES;
        }
    } else {
        end_moment = max_end;
    }
    if ((long long)start_day * 86400 >= end_moment) {
        cli_error(r->config, "Conflicting start and end dates passed on CLI (start %s must be before the end of the "
                             "window)", start);
        return CLEANUP_EXIT_BAD_DATES;
    }
    cli_format_ymd(start_day, r->start);
    cli_format_ymd((long)(end_moment / 86400), r->end);
    return 0;
}

/* Loads the config (upstream's no-config / bad-config statuses). 0 or an exit status. */
static int load_config(run *r, const cli_globals *g, const char *config_file, char **path_out)
{
    char *path = cli_config_path(g, config_file);
    if (path && !config_file && !(g && g->config_path) && access(path, F_OK) != 0) {
        free(path); /* only the XDG default, and it does not exist: nothing was passed in */
        path = NULL;
    }
    *path_out = path;
    if (!path) {
        cli_error(NULL, "No config file passed in.");
        return CLEANUP_EXIT_NO_CONFIG;
    }
    char err[2048] = "";
    if (cfg_load(path, &r->config, err, sizeof err) != 0) {
        cli_error(NULL, "Failed to read config file %s: %s", path, err);
        return CLEANUP_EXIT_BAD_CONFIG;
    }
    return 0;
}

/* --hash VALUE: the hex a hashed archive stores for VALUE. */
static int print_hash(run *r, const char *value)
{
    const char *secret = cfg_string(r->config, "s3_archive.hash_secret");
    char hex[65];
    if (!secret || !*secret) {
        cli_error(r->config, "s3_archive.hash_secret is not set in %s; --hash needs the secret the archive was "
                             "written with", r->config->path);
        return CLEANUP_EXIT_BAD_CONFIG;
    }
    if (archive_hash(secret, value, hex) != 0) {
        cli_error(r->config, "libcrypto could not compute the hash");
        return 1;
    }
    printf("%s\n", hex);
    return 0;
}

/* Writes the run's end line to the audit log and closes it. */
static int finish(run *r, const char *outcome, int status, long long selected)
{
    if (!r->audit) return status;
    audit_entry e;
    audit_entry_init(&e, "cleanup");
    e.reason = r->reason;
    audit_count counts[] = {{"selected", selected}, {"archived", r->archived}, {"deleted", r->deleted}};
    e.counts = counts;
    e.n_counts = selected >= 0 ? 3 : 2;
    if (selected < 0) e.counts = counts + 1;
    e.outcome = outcome;
    e.exit_status = status;
    char err[1024];
    if (audit_end(r->audit, &e, err, sizeof err) != 0) cli_error(r->config, "%s", err);
    audit_close(r->audit);
    r->audit = NULL;
    return status;
}

/* Steps after the config is loaded: settings, window, audit, LMS, fetch, batches. */
static int cleanup_run(run *r, const options *o, const cli_globals *g, long cool_off, long batch_size,
                       long batch_delay)
{
    char err[2048] = "";
    if (archive_settings(r->config, &r->fields, &r->hash_secret, err, sizeof err) != 0 || s3_client_new(r->config, !r->dry_run, &r->s3, err, sizeof err) != 0) {
        cli_error(r->config, "%s", err);
        return CLEANUP_EXIT_BAD_CONFIG;
    }
    s3_set_log(r->s3, on_s3_log, NULL);
    int status = window(r, o, cool_off);
    if (status) return status;

    /* the audit log must be writable before anything is changed */
    if (!r->dry_run) {
        audit_entry ae;
        audit_entry_init(&ae, "cleanup");
        ae.reason = r->reason;
        ae.from_state = "COMPLETE";
        ae.to_state = "(deleted)";
        char detail[256];
        snprintf(detail, sizeof detail, "created %s..%s; archive s3://%s/raw/ (fields %s)", r->start, r->end,
                 s3_bucket(r->s3), archive_fields_name(r->fields));
        ae.detail = detail;
        if (audit_open(r->config, g ? g->operator_name : NULL, &r->audit, err, sizeof err) != 0 ||
            audit_begin(r->audit, &ae, err, sizeof err) != 0) {
            cli_error(r->config, "%s", err);
            audit_close(r->audit);
            r->audit = NULL;
            return CLEANUP_EXIT_DELETING;
        }
    }
    r->http = http_client_new(r->config, err, sizeof err);
    const char *base = cfg_string(r->config, "base_urls.lms");
    if (!r->http || !base || !(r->lms = lms_new(r->http, base)) || http_ensure_token(r->http, err, sizeof err) != 0) {
        if (!base) snprintf(err, sizeof err, "base_urls.lms is missing in %s", r->config->path);
        cli_error(r->config, "Unexpected error occurred! %s", err);
        return finish(r, "failed", CLEANUP_EXIT_DELETING, -1);
    }

    say("Fetching retirements for learners that have a COMPLETE status and were created between %s and %s.",
        r->start, r->end);
    say("Fetching users in state COMPLETE created from %s to %s", r->start, r->end);
    cJSON *learners = NULL;
    lms_error le;
    if (lms_by_status_and_date(r->lms, "COMPLETE", r->start, r->end, &learners, &le) != 0 ||
        !cJSON_IsArray(learners)) {
        cli_error(r->config, "Unexpected error occurred fetching users to update! %s",
                  le.message[0] ? le.message : "the answer is not a list");
        lms_error_clear(&le);
        cJSON_Delete(learners);
        return finish(r, "failed", CLEANUP_EXIT_FETCHING, -1);
    }
    long long total = cJSON_GetArraySize(learners);
    say("Successfully fetched %lld learners", total);
    if (total == 0) {
        /* upstream uploads an empty archive and posts an empty cleanup without --batch_size; we do neither */
        say("No learners found!");
        cJSON_Delete(learners);
        return finish(r, "ok", 0, 0);
    }
    long per = batch_size > 0 ? batch_size : (long)total;
    long long n_batches = (total + per - 1) / per;
    int index = 0;
    const cJSON *next = learners->child; /* walked once: GetArrayItem per learner would be quadratic */
    for (long long first = 0; first < total && !status; first += per) {
        if (cleanup_cancel) {
            status = CLEANUP_EXIT_CANCELLED;
            break;
        }
        if (index > 0 && batch_delay > 0 && !r->dry_run) {
            struct timespec ts = {(time_t)batch_delay, 0};
            while (nanosleep(&ts, &ts) != 0 && !cleanup_cancel) {
            }
            if (cleanup_cancel) {
                status = CLEANUP_EXIT_CANCELLED;
                break;
            }
        }
        index++;
        say("Processing batch %d out of %lld of user retirement requests", index, n_batches);
        cJSON *batch = cJSON_CreateArray();
        for (long long k = first; k < first + per && next; k++, next = next->next)
            cJSON_AddItemReferenceToArray(batch, (cJSON *)next);
        status = process_batch(r, batch, index);
        cJSON_Delete(batch);
    }
    cJSON_Delete(learners);
    if (status == CLEANUP_EXIT_CANCELLED)
        cli_error(r->config, "stopped by a signal after %d of %lld batches: %lld archived, %lld deleted; run cleanup "
                             "again for the rest", index, n_batches, r->archived, r->deleted);
    if (!status && !r->dry_run) say("Archived and deleted %lld retirements in %lld batches.", r->deleted, n_batches);
    return finish(r, status == 0 ? "ok" : status == CLEANUP_EXIT_CANCELLED ? "cancelled" : "failed", status, total);
}

static int cleanup_exec(const cli_args *a, const cli_globals *g)
{
    options o;
    read_options(a, &o);
    int status;
    long cool_off = DEFAULT_COOL_OFF_DAYS, batch_size = 0, batch_delay = DEFAULT_BATCH_DELAY;
    if ((o.cool_off && cli_parse_long("--cool-off-days", o.cool_off, &cool_off) != 0) ||
        (o.batch_size && cli_parse_long("--batch-size", o.batch_size, &batch_size) != 0) ||
        (o.batch_delay && cli_parse_long("--batch-delay", o.batch_delay, &batch_delay) != 0))
        return CLI_EXIT_USAGE;

    run r;
    memset(&r, 0, sizeof r);
    r.dry_run = o.dry_run;
    r.reason = o.reason;
    r.last_archive_time = 0;
    char *path = NULL;
    if (!o.hash) {
        /* upstream logs this first, before the config is checked (None when none is given) */
        say("Starting bulk update script: Config: %s", o.config_file ? o.config_file
                                                       : g && g->config_path ? g->config_path
                                                                             : "None");
    }
    status = load_config(&r, g, o.config_file, &path);
    if (!status && o.hash) status = print_hash(&r, o.hash);
    else if (!status) {
        cli_install_cancel_handlers(&cleanup_cancel);
        status = cleanup_run(&r, &o, g, cool_off, batch_size, batch_delay);
    }
    audit_close(r.audit);
    s3_client_free(r.s3);
    if (r.lms) lms_free(r.lms);
    if (r.http) http_client_free(r.http);
    cfg_free(r.config);
    free(path);
    return status;
}

