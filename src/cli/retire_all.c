/* `retirectl retire --all`: retire the ready queue (what get_learners_to_retire.py asks for:
 * PENDING plus every pipeline end state, cool-off respected) with N concurrent job workers
 * sharing one LMS token, a live progress line on a terminal, a summary, the audit log, and
 * the upstream safety valve (--max-learners, default 300 like user_count_error_threshold).
 * A learner is handed to exactly one worker: the queue is fetched once, de-duplicated and
 * walked in order. --shard I/N keeps only this machine's stable share (engine/shard.h).
 *
 * The learners are scheduled by the engine's job pool (engine/job_pool.h: the -j limit, worker
 * reuse and recycling, the breakers, the counts); this file is what is particular to the
 * command: options, the queue, leases, what is printed, the audit log and the exit status.
 *
 * Every learner is leased first (engine/lease.h): one held by another retirectl on this host is
 * not started (counted failed, exit 253 in its audit item). The circuit breaker stops starting
 * learners after --max-consecutive-failures failures in a row of the same DRIVER.method, and
 * reusable workers are recycled (--worker-max-learners, --worker-max-rss-mib).
 *
 * Exit statuses: 0 every learner COMPLETE (or nothing to do), 252 at least one learner did not
 * complete (ERRORED or refused), 248 the circuit breaker stopped the run, 130 stopped by
 * SIGINT/SIGTERM, 255 setup (token, queue fetch, audit log, too many learners), 249 bad config,
 * 2 usage. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/cmd_entry.h"
#include "cli/common.h"
#include "common/signals.h"
#include "common/xalloc.h"
#include "engine/audit.h"
#include "engine/job.h"
#include "engine/job_pool.h"
#include "engine/lease.h"
#include "engine/plan.h"
#include "engine/shard.h"


#define ALL_MAX_JOBS 64
#define ALL_EXIT_CANCELLED 130
#define ALL_SETUP_STREAK 10 /* consecutive learners failing before any step: stop the run */
#define ALL_EXIT_BREAKER 248 /* the circuit breaker stopped starting learners */

static volatile sig_atomic_t all_cancel;

static void on_signal(int sig)
{
    (void)sig;
    all_cancel++;
}

static const cli_opt all_options[] = {
    {"--all", NULL, "retire the ready queue (this form)", CLI_OPT_NO_USAGE, NULL},
    {"-j|--jobs", "N", "concurrent workers, 1..64 (default 1)", 0, NULL},
    {"--cool-off-days", "N", "days since the request (default 7)", 0, NULL},
    {"--shard", "I/N",
     "only this machine's share: shards are numbered 0..N-1; a learner's shard\n"
     "is FNV-1a-64(original username) mod N, so N machines split the queue with\n"
     "no overlap and no gap",
     0, NULL},
    {"--max-learners", "N", "refuse when more learners than this are queued (default 300)", 0, NULL},
    {"--force-large", NULL, "retire them anyway", 0, NULL},
    {"--max-consecutive-failures", "N",
     "circuit breaker: after N learners in a row fail in the same DRIVER.method\n"
     "no new learner is started (default 5; 0 turns it off)",
     0, NULL},
    {"--worker-max-learners", "N", "replace a worker by a fresh one after N learners (default 100; 0: never)", 0, NULL},
    {"--worker-max-rss-mib", "N", "replace a worker whose resident memory passed N MiB (default 512; 0: never)", 0, NULL},
    {"--events", NULL, "print every job's JSON-lines events on stdout", 0, NULL},
    {"--dry-run", NULL,
     "list the learners that would be retired and check the pipeline's drivers\n"
     "(exit 255 when it cannot run); change nothing",
     0, NULL},
    {"--config-file|--config", "FILE", "the retirement config (else $RETIREMENT_CONFIG_FILE)", CLI_OPT_NO_USAGE, NULL},
    {"--reason", "TEXT", "why (kept in the audit log)", CLI_OPT_NO_USAGE, NULL},
    CLI_OPT_END,
};

static int retire_all_exec(const cli_args *a, const cli_globals *g);

/* `retirectl retire --all`: the variant of cmd_retire_entry that --all selects. */
const cli_cmd_entry cmd_retire_all_entry = {
    .name = "retire --all",
    .summary = "retire the ready queue",
    .about = "Retire every learner in the ready queue: PENDING plus every pipeline end state, requested more\n"
             "than --cool-off-days ago (as get_learners_to_retire.py asks), each exactly as `retirectl retire`\n"
             "would, with N learners in flight at once. One LMS token is fetched first and shared.\n",
    .opts = all_options,
    .epilogue = "After 10 learners in a row fail before any step (the LMS is down or refuses the credentials)\n"
                "no new learner is started.\n"
                "\n"
                "A learner another retirectl on this host is working on is not started (one job per learner).\n"
                "\n"
                "Exit status: 0 all complete or nothing to do, 252 some learner did not complete, 248 the circuit\n"
                "breaker stopped the run, 130 stopped by a signal (learners in flight finish their step),\n"
                "255 setup/queue/audit failure or too many learners, 249 bad config, 2 usage.\n",
    .args_hint = ": --all takes no USER",
    .exec = retire_all_exec,
};

/* A malloc'd copy of a job message on one line: each line break (the upstream "Unexpected
 * error occurred!\n<why>" form) becomes ": " so a FAILED line stays one line. NULL for NULL. */
static char *one_line(const char *msg)
{
    if (!msg) return NULL;
    size_t n = strlen(msg);
    char *out = xmalloc(2 * n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (msg[i] == '\n') {
            while (o > 0 && out[o - 1] == ' ') o--;
            if (i + 1 == n) break;
            if (o > 0 && out[o - 1] != '!' && out[o - 1] != ':' && out[o - 1] != '.') out[o++] = ':';
            out[o++] = ' ';
        } else {
            out[o++] = msg[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* --json: the summary object of a run that stopped before any learner was started: the
 * learners queued (0 when the queue was not read), none started, the exit status and the
 * error (as printed on stderr). */
static void print_json_failure(const cfg *c, size_t queued, int exit_status)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "queued", (double)queued);
    cJSON_AddNumberToObject(o, "complete", 0);
    cJSON_AddNumberToObject(o, "failed", 0);
    cJSON_AddNumberToObject(o, "not_started", (double)queued);
    cJSON_AddArrayToObject(o, "failed_learners");
    cJSON_AddNumberToObject(o, "exit_status", exit_status);
    cJSON_AddStringToObject(o, "error", cli_last_error());
    char *text = cJSON_PrintUnformatted(o);
    if (text) {
        cli_print_scrubbed(c, text);
        fputc('\n', stdout);
    }
    free(text);
    cJSON_Delete(o);
}

/* The options of one run. */
typedef struct all_opts {
    long jobs, cool_off, max_learners, max_failures, worker_learners, worker_rss_mib;
    const char *shard_text, *config_file, *reason;
    int force_large, events, dry_run;
    shard_spec shard;
    char shard_buf[32];
} all_opts;

/* One learner being retired: its lease and the steps its events reported (for the audit). */
typedef struct learner_run {
    size_t learner;        /* index in the work list */
    lease *held;           /* the learner's lease while its job runs */
    audit_steps steps;
} learner_run;

/* The state of one run: what the pool's callbacks and the result handler share. */
typedef struct all_run {
    cli_ctx *ctx;
    const cli_globals *g;
    const all_opts *o;
    job_ctx *jc;
    job_pool *pool;
    audit_log *audit;
    const char *shard_label; /* ae.shard of the item lines */
    char **names;
    size_t n_names, total_queue;
    char **failures;
    size_t n_failures;
    int tty, audit_broken;
    int summary_printed; /* the run got as far as retiring: its summary is printed */
} all_run;

static void learner_run_free(learner_run *lr)
{
    if (!lr) return;
    lease_release(lr->held);
    audit_steps_free(&lr->steps);
    free(lr);
}

static int print_events;

/* Event callback: user is the learner_run. Prints raw events with --events; records finished
 * steps. */
static void on_event(void *user, job *j, const ev_event *ev, const char *line)
{
    (void)j;
    learner_run *lr = user;
    if (print_events) {
        fputs(line, stdout);
        fflush(stdout);
    }
    audit_steps_note(&lr->steps, ev, 1);
}

/* Reads the parsed command line into o. -1 to go on, else CLI_EXIT_USAGE. */
static int read_args(const cli_args *a, all_opts *o)
{
    if (cli_args_long(a, "-j", o->jobs, &o->jobs) || cli_args_long(a, "--cool-off-days", o->cool_off, &o->cool_off) ||
        cli_args_long(a, "--max-learners", o->max_learners, &o->max_learners) ||
        cli_args_long(a, "--max-consecutive-failures", o->max_failures, &o->max_failures) ||
        cli_args_long(a, "--worker-max-learners", o->worker_learners, &o->worker_learners) ||
        cli_args_long(a, "--worker-max-rss-mib", o->worker_rss_mib, &o->worker_rss_mib))
        return CLI_EXIT_USAGE;
    o->shard_text = cli_args_get(a, "--shard");
    o->config_file = cli_args_get(a, "--config-file");
    o->reason = cli_args_get(a, "--reason");
    o->force_large = cli_args_has(a, "--force-large");
    o->events = cli_args_has(a, "--events");
    o->dry_run = cli_args_has(a, "--dry-run");
    return -1;
}

/* Checks -j and --shard after parsing. -1 to go on, else the exit status. */
static int check_opts(all_opts *o)
{
    if (o->jobs < 1 || o->jobs > ALL_MAX_JOBS) {
        fprintf(stderr, "retirectl retire --all: -j must be 1..%d, not %ld\n", ALL_MAX_JOBS, o->jobs);
        return CLI_EXIT_USAGE;
    }
    char err[2048] = "";
    if (o->shard_text && shard_parse(o->shard_text, &o->shard, err, sizeof err) != 0) {
        fprintf(stderr, "retirectl retire --all: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    shard_format(&o->shard, o->shard_buf, sizeof o->shard_buf);
    return -1;
}

/* Reads the queue (PENDING + every end state, as get_learners_to_retire.py asks) into *out. 0,
 * or the exit status after saying why. */
static int fetch_queue(cli_ctx *ctx, long cool_off, cJSON **out)
{
    size_t n_states = ctx->config->n_steps + 1;
    const char **states = xcalloc(n_states, sizeof *states);
    states[0] = PLAN_START_STATE;
    for (size_t i = 0; i < ctx->config->n_steps; i++) states[i + 1] = ctx->config->steps[i].end_state;
    lms_error le;
    memset(&le, 0, sizeof le);
    int qrc = lms_queue(ctx->lms, states, n_states, cool_off, 0, out, &le);
    free(states);
    if (qrc != 0 || !cJSON_IsArray(*out)) {
        cli_error(ctx->config, "Unexpected error fetching the retirement queue: %s",
                  qrc ? le.message : "the answer is not a JSON list");
        lms_error_clear(&le);
        return CLI_EXIT_SETUP;
    }
    return 0;
}

/* This shard's learners of queue, each once, in queue order, into run->names (an
 * open-addressing set on the FNV hash finds repeats in O(1), so a queue of 100,000 stays fast). */
static void pick_names(all_run *run, const cJSON *queue)
{
    run->total_queue = (size_t)cJSON_GetArraySize(queue);
    run->names = xcalloc(run->total_queue + 1, sizeof *run->names);
    size_t set_cap = 16;
    while (set_cap < 2 * run->total_queue + 2) set_cap *= 2;
    char **set = xcalloc(set_cap, sizeof *set);
    const cJSON *item;
    size_t no_name = 0;
    cJSON_ArrayForEach(item, queue)
    {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(item, "original_username");
        if (!cJSON_IsString(u) || !u->valuestring[0]) {
            no_name++;
            continue;
        }
        if (!shard_contains(&run->o->shard, u->valuestring)) continue;
        size_t h = (size_t)shard_hash(u->valuestring) & (set_cap - 1);
        while (set[h] && strcmp(set[h], u->valuestring)) h = (h + 1) & (set_cap - 1);
        if (set[h]) continue; /* listed twice: one worker only */
        set[h] = run->names[run->n_names++] = xstrdup(u->valuestring);
    }
    free(set);
    if (no_name) cli_error(run->ctx->config, "%zu queue entries have no original_username and were skipped", no_name);
}

/* The checks before anything runs: too many learners, --dry-run, an empty queue. -1 to go on,
 * else the exit status. */
static int before_run(all_run *run)
{
    const all_opts *o = run->o;
    const char *sb = o->shard_buf;
    if ((long)run->n_names > o->max_learners && !o->force_large) {
        cli_error(run->ctx->config,
                  "Too many learners to retire! Expected %ld or fewer, got %zu! (queue of %zu%s%s). Nothing was "
                  "done; check the queue, then raise --max-learners or pass --force-large.",
                  o->max_learners, run->n_names, run->total_queue, o->shard.count > 1 ? ", shard " : "",
                  o->shard.count > 1 ? sb : "");
        return CLI_EXIT_SETUP;
    }
    if (o->dry_run) {
        for (size_t k = 0; k < run->n_names; k++) printf("%s\n", run->names[k]);
        /* a pipeline that cannot run would refuse every learner: say so now, as plan does for one */
        char problems[8192] = "";
        int n_problems = run->n_names ? cli_check_pipeline_drivers(run->ctx->config, run->g, problems, sizeof problems) : 0;
        if (n_problems) {
            size_t pl = strlen(problems);
            while (pl > 0 && problems[pl - 1] == '\n') problems[--pl] = '\0';
            cli_error(run->ctx->config,
                      "%zu learner%s queued (queue %zu, shard %s), but the pipeline cannot run (%d problem%s), so "
                      "each would be refused:\n%s\nNothing was done; fix the pipeline (`retirectl check-config`).",
                      run->n_names, run->n_names == 1 ? "" : "s", run->total_queue, sb, n_problems,
                      n_problems == 1 ? "" : "s", problems);
            return CLI_EXIT_SETUP;
        }
        fprintf(stderr, "%zu learner%s would be retired (queue %zu, shard %s); nothing was done.\n", run->n_names,
                run->n_names == 1 ? "" : "s", run->total_queue, sb);
        return 0;
    }
    if (run->n_names == 0) {
        if (!o->events) printf("No learners to retire (queue %zu, shard %s).\n", run->total_queue, sb);
        return 0;
    }
    return -1;
}

/* The pool's start callback: *item is &names[k]. A bad record (control characters) is never
 * retired, a learner another retirectl on this host holds is left to it; else its job starts.
 * *item becomes the learner_run. */
static int start_learner(void *user, job_pool *p, void **item, char *why, size_t why_len)
{
    all_run *run = user;
    learner_run *lr = xcalloc(1, sizeof *lr);
    lr->learner = (size_t)((char **)*item - run->names);
    *item = lr;
    const char *name = run->names[lr->learner];
    if (job_has_control_chars(name)) {
        snprintf(why, why_len, "bad learner record: the queue's original_username contains a control character; not retired");
        return CLI_EXIT_BAD_LEARNER;
    }
    lease_holder h;
    char err[2048] = "";
    int rc = lease_acquire(NULL, cfg_string(run->ctx->config, "base_urls.lms"), name, "retirectl retire --all", &lr->held,
                           &h, err, sizeof err);
    if (rc != 0) {
        char who[640];
        lease_describe(&h, who, sizeof who);
        snprintf(why, why_len, "%s%s", rc > 0 ? "being worked on by " : "", rc > 0 ? who : err);
        return rc > 0 ? CLI_EXIT_WORKING_STATE : CLI_EXIT_SETUP;
    }
    job_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.username = name;
    spec.action = JOB_RETIRE;
    spec.label = "retire";
    spec.reason = run->o->reason;
    if (!job_pool_run_job(p, &spec, on_event, lr, err, sizeof err)) {
        snprintf(why, why_len, "could not start a worker: %s", err);
        return CLI_EXIT_SETUP;
    }
    return 0;
}

/* Writes it to the audit log; a failure stops starting learners (said when loud). */
static void audit_write(all_run *run, const audit_entry *it, int loud)
{
    char err[2048];
    if (audit_item(run->audit, it, err, sizeof err) == 0 || run->audit_broken) return;
    run->audit_broken = 1;
    job_pool_stop(run->pool);
    if (loud) cli_error(run->ctx->config, "%s; no new learner is started", err);
}

/* A learner that was not started: say why, count it failed, write its audit item. */
static void on_refused(all_run *run, const job_pool_result *r, const char *name)
{
    char *shown = cli_inert(name);
    cli_error(run->ctx->config, "not started: %s: %s", shown ? shown : name, r->why ? r->why : "");
    free(shown);
    run->failures[run->n_failures++] = xstrdup(name);
    audit_entry it;
    audit_entry_init(&it, "retire");
    const char *pii[] = {name, NULL};
    it.pii = pii;
    it.outcome = r->exit_status == CLI_EXIT_SETUP ? "not_started" : "refused";
    it.exit_status = r->exit_status;
    it.detail = r->why;
    audit_write(run, &it, 0);
}

/* Says that a breaker tripped on this result (the pool stopped starting learners). */
static void say_tripped(all_run *run, const job_pool_result *r)
{
    const cfg *c = run->ctx->config;
    char *last = one_line(r->message);
    if (r->tripped_setup)
        cli_error(c,
                  "%d learners in a row failed before any step (last: %s); the LMS looks unreachable, "
                  "refuses the credentials, or the pipeline cannot run (`retirectl check-config` "
                  "says which). No new learner is started; fix it and run again.",
                  ALL_SETUP_STREAK, last ? last : r->message);
    if (r->tripped_breaker) {
        job_pool_breaker b = job_pool_get_breaker(run->pool);
        cli_error(c,
                  "circuit breaker: %d learners in a row failed in %s (last reason: %s). No new learner "
                  "is started; fix the driver or its service, then `retirectl resume` the failed ones "
                  "and run again.",
                  b.streak, b.key, last ? last : "");
    }
    free(last);
}

/* A learner whose job ended: the breakers' messages, a FAILED line, its audit item. */
static void on_ended(all_run *run, const job_pool_result *r, const learner_run *lr, const char *name)
{
    say_tripped(run, r);
    int st = r->exit_status;
    if (st != 0) {
        run->failures[run->n_failures++] = xstrdup(name);
        if (!run->o->events) {
            char *line = one_line(r->message);
            char *msg = cli_inert(line ? line : r->message);
            char *shown_name = cli_inert(name);
            fprintf(stderr, "%sFAILED %s (exit %d, %s): %s\n", run->tty ? "\r\033[K" : "", shown_name ? shown_name : name,
                    st, job_outcome(r->j), msg ? msg : "");
            free(shown_name);
            free(msg);
            free(line);
        }
    }
    audit_entry it;
    audit_entry_init(&it, "retire");
    const char *pii[] = {name, NULL};
    it.pii = pii;
    it.user_id = job_lms_user_id(r->j) > 0 ? job_lms_user_id(r->j) : -1;
    it.retirement_id = job_retirement_id(r->j) > 0 ? job_retirement_id(r->j) : -1;
    it.steps = lr->steps.v;
    it.n_steps = lr->steps.n;
    it.outcome = job_outcome(r->j);
    it.exit_status = st;
    it.shard = run->shard_label;
    audit_write(run, &it, 1);
}

/* Handles every result the pool has. */
static void read_results(all_run *run)
{
    job_pool_result r;
    while (job_pool_read(run->pool, &r)) {
        learner_run *lr = r.item;
        const char *name = run->names[lr->learner];
        if (r.started) on_ended(run, &r, lr, name);
        else on_refused(run, &r, name);
        learner_run_free(lr);
    }
}

/* Cancels the jobs on the first and second signal, saying so. */
static void on_cancel(all_run *run, int *cancel_seen)
{
    if (!all_cancel || *cancel_seen >= all_cancel || *cancel_seen >= 2) return;
    (*cancel_seen)++;
    job_pool_cancel(run->pool);
    size_t active = job_pool_get_counts(run->pool).running;
    if (!run->o->events)
        fprintf(stderr, "%sretirectl: stopping: %zu learner%s in flight finish their step%s\n", run->tty ? "\r\033[K" : "",
                active, active == 1 ? "" : "s", *cancel_seen == 1 ? " (signal again to stop them now)" : "");
}

/* Runs the pool until every learner ended or no more may start; the progress line on a
 * terminal. Returns the seconds it took. */
static double run_pool(all_run *run)
{
    int cancel_seen = 0;
    double t0 = job_now(), last_draw = 0;
    char err[2048];
    for (size_t k = 0; k < run->n_names; k++) job_pool_add(run->pool, &run->names[k]);
    while (!job_pool_idle(run->pool)) {
        int waited = 0;
        int ready = job_pool_wait(run->pool, 250, &waited);
        if (ready < 0 && errno != EINTR) cli_error(run->ctx->config, "poll failed: %s", strerror(errno));
        if (ready == 0 && waited >= 100 && audit_sync(run->audit, err, sizeof err) != 0 && !run->audit_broken) {
            run->audit_broken = 1; /* idle: flush item lines written since the last fsync */
            job_pool_stop(run->pool);
            cli_error(run->ctx->config, "%s; no new learner is started", err);
        }
        read_results(run);
        on_cancel(run, &cancel_seen);
        job_pool_counts c = job_pool_get_counts(run->pool);
        double now = job_now();
        if (run->tty && (now - last_draw >= 0.2 || c.running == 0)) {
            double el = now - t0;
            fprintf(stderr, "\r\033[Kdone %zu / failed %zu / remaining %zu / %.1f learners/s", c.done, c.failed,
                    run->n_names - c.done - c.failed, el > 0 ? (double)(c.done + c.failed) / el : 0.0);
            fflush(stderr);
            last_draw = now;
        }
    }
    if (run->tty) fputs("\r\033[K", stderr);
    return job_now() - t0;
}

/* --json: one object for scripts (Jenkins, Kubernetes): counts and who did not complete. */
static void print_summary_json(const all_run *run, double elapsed, int final_status)
{
    job_pool_counts c = job_pool_get_counts(run->pool);
    size_t not_started = run->n_names - c.done - c.failed;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "queued", (double)run->n_names);
    cJSON_AddNumberToObject(o, "complete", (double)c.done);
    cJSON_AddNumberToObject(o, "failed", (double)c.failed);
    cJSON_AddNumberToObject(o, "not_started", (double)not_started);
    cJSON_AddNumberToObject(o, "jobs", (double)run->o->jobs);
    cJSON_AddStringToObject(o, "shard", run->o->shard_buf);
    cJSON_AddNumberToObject(o, "seconds", elapsed);
    cJSON_AddNumberToObject(o, "workers_recycled", job_ctx_workers_recycled(run->jc));
    if (job_pool_stopped(run->pool) == JOB_POOL_STOP_BREAKER) {
        job_pool_breaker br = job_pool_get_breaker(run->pool);
        char *reason = one_line(br.message);
        cJSON *b = cJSON_AddObjectToObject(o, "circuit_breaker");
        cJSON_AddStringToObject(b, "step", br.key);
        cJSON_AddNumberToObject(b, "consecutive_failures", br.streak);
        cJSON_AddStringToObject(b, "last_reason", reason ? reason : "");
        cJSON_AddNumberToObject(b, "not_started", (double)not_started);
        free(reason);
    }
    cJSON *fl = cJSON_AddArrayToObject(o, "failed_learners");
    for (size_t k = 0; k < run->n_failures; k++) cJSON_AddItemToArray(fl, cJSON_CreateString(run->failures[k]));
    cJSON_AddNumberToObject(o, "exit_status", final_status);
    char *text = cJSON_PrintUnformatted(o);
    cli_print_scrubbed(run->ctx->config, text);
    fputc('\n', stdout);
    free(text);
    cJSON_Delete(o);
}

/* The summary for people: counts, the breaker, who failed and what to do. */
static void print_summary_text(const all_run *run, double elapsed)
{
    job_pool_counts c = job_pool_get_counts(run->pool);
    size_t n = run->n_names, not_started = n - c.done - c.failed;
    const all_opts *o = run->o;
    printf("Retired %zu of %zu learner%s in %.1f s (%.1f learners/s, -j %ld%s%s): %zu complete, %zu failed", c.done, n,
           n == 1 ? "" : "s", elapsed, elapsed > 0 ? (double)(c.done + c.failed) / elapsed : 0.0, o->jobs,
           o->shard.count > 1 ? ", shard " : "", o->shard.count > 1 ? o->shard_buf : "", c.done, c.failed);
    if (not_started) printf(", %zu not started", not_started);
    printf(".\n");
    if (job_pool_stopped(run->pool) == JOB_POOL_STOP_BREAKER) {
        job_pool_breaker br = job_pool_get_breaker(run->pool);
        char *reason = one_line(br.message);
        char *shown = cli_inert(reason ? reason : "");
        printf("Stopped by the circuit breaker: %d learners in a row failed in %s; %zu not started. Last reason: %s\n",
               br.streak, br.key, not_started, shown ? shown : "");
        free(shown);
        free(reason);
    }
    for (size_t k = 0; k < run->n_failures; k++) {
        char *shown = cli_inert(run->failures[k]);
        printf("  failed: %s\n", shown ? shown : run->failures[k]);
        free(shown);
    }
    if (run->n_failures) printf("See `retirectl status USER` for each; `retirectl resume USER` once fixed.\n");
}

/* The audit log's end line of the run: counts, outcome and why it stopped early. */
static void write_audit_end(all_run *run, audit_entry *ae, audit_count *counts, int status)
{
    job_pool_counts c = job_pool_get_counts(run->pool);
    job_pool_stop_kind stop = job_pool_stopped(run->pool);
    size_t not_started = run->n_names - c.done - c.failed;
    counts[1].value = (long long)c.done;
    counts[2].value = (long long)c.failed;
    counts[3].value = (long long)not_started;
    ae->n_counts = 4;
    ae->outcome = status == 0 ? "complete" : all_cancel ? "cancelled" : stop == JOB_POOL_STOP_BREAKER ? "stopped" : "failed";
    ae->exit_status = status;
    char detail[1200];
    if (stop == JOB_POOL_STOP_BREAKER) {
        job_pool_breaker br = job_pool_get_breaker(run->pool);
        char *reason = one_line(br.message);
        snprintf(detail, sizeof detail, "circuit breaker: %d learners in a row failed in %s; %zu not started; last reason: %s",
                 br.streak, br.key, not_started, reason ? reason : "");
        free(reason);
        ae->detail = detail;
    } else if (stop == JOB_POOL_STOP_SETUP) {
        ae->detail = "stopped early: learners kept failing before any step (LMS unreachable?)";
    } else if (run->audit_broken) {
        ae->detail = "stopped early: the audit log could not be written";
    }
    char err[2048];
    if (audit_end(run->audit, ae, err, sizeof err) != 0) cli_error(run->ctx->config, "%s", err);
}

/* Retires the learners of run->names with the pool: audit begin/end, signals, the summary.
 * Returns the exit status. */
static int retire_learners(all_run *run)
{
    const all_opts *o = run->o;
    audit_count counts[4] = {{"queued", (long long)run->n_names}, {"complete", 0}, {"failed", 0}, {"not_started", 0}};
    audit_entry ae;
    audit_entry_init(&ae, "retire-all");
    ae.reason = o->reason;
    ae.shard = run->shard_label = o->shard.count > 1 ? o->shard_buf : NULL;
    ae.counts = counts;
    ae.n_counts = 1;
    char err[2048];
    const char *op = run->g ? run->g->operator_name : NULL;
    if (audit_open(run->ctx->config, op, &run->audit, err, sizeof err) != 0 ||
        audit_begin(run->audit, &ae, err, sizeof err) != 0) {
        cli_error(run->ctx->config, "%s", err);
        return CLI_EXIT_SETUP;
    }
    job_ctx_set_audit(run->jc, op, o->reason);
    run->summary_printed = 1;
    job_pool_opts po = {.max_running = (int)o->jobs, .start = start_learner, .user = run,
                        .breaker_failures = (int)o->max_failures, .setup_failures = ALL_SETUP_STREAK,
                        .setup_status = CLI_EXIT_SETUP, .jc = run->jc, .reuse_workers = 1,
                        .recycle_learners = (int)o->worker_learners,
                        .recycle_rss_bytes = (long long)o->worker_rss_mib * 1024 * 1024};
    run->pool = job_pool_new(&po);
    run->failures = xcalloc(run->n_names, sizeof *run->failures);
    if (!run->pool) abort(); /* only for bad options: -j was checked to be 1..ALL_MAX_JOBS */
    struct sigaction old_int, old_term;
    sig_catch_cancel(on_signal, &old_int, &old_term); /* also: a closed stdout (| head) is not fatal */
    run->tty = !o->events && isatty(STDERR_FILENO);
    double elapsed = run_pool(run);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    job_pool_counts c = job_pool_get_counts(run->pool);
    size_t not_started = run->n_names - c.done - c.failed;
    int status = all_cancel ? ALL_EXIT_CANCELLED
                 : job_pool_stopped(run->pool) == JOB_POOL_STOP_BREAKER ? ALL_EXIT_BREAKER
                 : (c.failed || not_started || run->audit_broken) ? CLI_EXIT_RETIRING
                                                                  : 0;
    if (!o->events && run->g && run->g->json) print_summary_json(run, elapsed, status);
    else if (!o->events) print_summary_text(run, elapsed);
    write_audit_end(run, &ae, counts, status);
    return status;
}

/* Frees what a run holds (the pool ends any job still running). */
static void run_free(all_run *run)
{
    job_pool_free(run->pool);
    audit_close(run->audit);
    for (size_t k = 0; k < run->n_failures; k++) free(run->failures[k]);
    free(run->failures);
    for (size_t k = 0; run->names && k < run->n_names; k++) free(run->names[k]);
    free(run->names);
    if (run->jc) job_ctx_free(run->jc);
}

/* Sets up the job context and the work list, then retires. Returns the exit status. */
static int run_all(all_run *run)
{
    char err[2048] = "";
    cli_ctx *ctx = run->ctx;
    run->jc = job_ctx_new_with(ctx->config, ctx->http, ctx->lms, ctx->registry, err, sizeof err);
    if (!run->jc || job_ctx_prepare(run->jc, err, sizeof err) != 0) {
        cli_error(ctx->config, "Unexpected error occurred! %s", err);
        return CLI_EXIT_SETUP;
    }
    /* one debug event per HTTP request is most of a bulk run's event traffic: keep info and up
     * unless the caller wants the full stream */
    if (!run->o->events) job_ctx_set_http_log_level(run->jc, RD_LOG_INFO);
    cJSON *queue = NULL;
    int rc = fetch_queue(ctx, run->o->cool_off, &queue);
    if (rc == 0) pick_names(run, queue);
    cJSON_Delete(queue); /* a smaller supervisor forks faster */
    if (rc) return rc;
    rc = before_run(run);
    if (rc >= 0) return rc;
    return retire_learners(run);
}

static int retire_all_exec(const cli_args *a, const cli_globals *g)
{
    all_opts o = {.jobs = 1, .cool_off = 7, .max_learners = 300, .max_failures = 5, .worker_learners = 100,
                  .worker_rss_mib = 512, .shard = {0, 1}};
    int rc = read_args(a, &o);
    if (rc < 0) rc = check_opts(&o);
    if (rc >= 0) return rc;
    print_events = o.events;

    cli_ctx ctx;
    rc = cli_open(&ctx, g, o.config_file, CLI_NEED_VALIDATE | CLI_NEED_LMS | CLI_NEED_REG);
    if (rc) {
        if (!o.events && g && g->json) print_json_failure(NULL, 0, rc);
        return rc;
    }
    all_run run = {.ctx = &ctx, .g = g, .o = &o};
    int status = run_all(&run);
    /* --json: a failure before any learner ran still gives the one object scripts parse */
    if (!run.summary_printed && status != 0 && !o.dry_run && !o.events && g && g->json)
        print_json_failure(ctx.config, run.n_names, status);
    run_free(&run);
    cli_close(&ctx);
    return status;
}
