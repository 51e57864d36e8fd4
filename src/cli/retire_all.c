/* `retirectl retire --all`: retire the ready queue (what get_learners_to_retire.py asks for:
 * PENDING plus every pipeline end state, cool-off respected) with N concurrent job workers
 * sharing one LMS token, a live progress line on a terminal, a summary, the audit log, and
 * the upstream safety valve (--max-learners, default 300 like user_count_error_threshold).
 * A learner is handed to exactly one worker: the queue is fetched once, de-duplicated and
 * walked in order. --shard I/N keeps only this machine's stable share (engine/shard.h).
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
#include "cli/common.h"
#include "engine/audit.h"
#include "engine/job.h"
#include "engine/lease.h"
#include "engine/plan.h"
#include "engine/shard.h"

int retire_all_main(int argc, char **argv, const cli_globals *g);

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

static void usage(FILE *out)
{
    fprintf(out,
            "usage: retirectl retire --all [-j N] [--cool-off-days N] [--shard I/N] [--max-learners N]\n"
            "                        [--force-large] [--max-consecutive-failures N] [--worker-max-learners N]\n"
            "                        [--worker-max-rss-mib N] [--events] [--dry-run]\n"
            "\n"
            "Retire every learner in the ready queue: PENDING plus every pipeline end state, requested more\n"
            "than --cool-off-days ago (as get_learners_to_retire.py asks), each exactly as `retirectl retire`\n"
            "would, with N learners in flight at once. One LMS token is fetched first and shared.\n"
            "\n"
            "  -j, --jobs N         concurrent workers, 1..%d (default 1)\n"
            "  --cool-off-days N    days since the request (default 7)\n"
            "  --shard I/N          only this machine's share: shards are numbered 0..N-1; a learner's shard\n"
            "                       is FNV-1a-64(original username) mod N, so N machines split the queue with\n"
            "                       no overlap and no gap\n"
            "  --max-learners N     refuse when more learners than this are queued (default 300)\n"
            "  --force-large        retire them anyway\n"
            "  --max-consecutive-failures N\n"
            "                       circuit breaker: after N learners in a row fail in the same DRIVER.method\n"
            "                       no new learner is started (default 5; 0 turns it off)\n"
            "  --worker-max-learners N\n"
            "                       replace a worker by a fresh one after N learners (default 100; 0: never)\n"
            "  --worker-max-rss-mib N\n"
            "                       replace a worker whose resident memory passed N MiB (default 512; 0: never)\n"
            "  --events             print every job's JSON-lines events on stdout\n"
            "  --dry-run            list the learners that would be retired and check the pipeline's drivers\n"
          "                       (exit 255 when it cannot run); change nothing\n"
            "\n"
            "After 10 learners in a row fail before any step (the LMS is down or refuses the credentials)\n"
            "no new learner is started.\n"
            "\n"
            "A learner another retirectl on this host is working on is not started (one job per learner).\n"
            "\n"
            "Exit status: 0 all complete or nothing to do, 252 some learner did not complete, 248 the circuit\n"
            "breaker stopped the run, 130 stopped by a signal (learners in flight finish their step),\n"
            "255 setup/queue/audit failure or too many learners, 249 bad config, 2 usage.\n",
            ALL_MAX_JOBS);
}

/* One worker slot. */
typedef struct slot {
    job *j;
    lease *held;           /* the learner's lease while its job runs */
    size_t learner;        /* index in the work list */
    audit_step steps[64];
    char *owned[64 * 3];
    size_t n_steps, n_owned;
} slot;

/* A malloc'd copy of a job message on one line: each line break (the upstream "Unexpected
 * error occurred!\n<why>" form) becomes ": " so a FAILED line stays one line. NULL on OOM. */
static char *one_line(const char *msg)
{
    if (!msg) return NULL;
    size_t n = strlen(msg);
    char *out = malloc(2 * n + 1);
    if (!out) return NULL;
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

static void slot_clear(slot *s)
{
    lease_release(s->held);
    for (size_t i = 0; i < s->n_owned; i++) free(s->owned[i]);
    memset(s, 0, sizeof *s);
}

static const char *keep(slot *s, const char *text)
{
    if (!text || s->n_owned >= sizeof s->owned / sizeof s->owned[0]) return NULL;
    return s->owned[s->n_owned++] = strdup(text);
}

/* Event callback: user is the slot. Records finished steps; prints raw events with --events. */
static void on_event(void *user, job *j, const ev_event *ev, const char *line)
{
    (void)j;
    slot *s = user;
    if (ev->kind == EV_STEP && ev->status &&
        (!strcmp(ev->status, "done") || !strcmp(ev->status, "skipped") || !strcmp(ev->status, "failed")) &&
        s->n_steps < sizeof s->steps / sizeof s->steps[0]) {
        s->steps[s->n_steps].driver = keep(s, ev->driver);
        s->steps[s->n_steps].method = keep(s, ev->method);
        s->steps[s->n_steps].status = keep(s, ev->status);
        s->n_steps++;
    }
    (void)line;
}

static int print_events;

/* Wraps on_event to print the raw line first when --events is on. */
static void on_event_print(void *user, job *j, const ev_event *ev, const char *line)
{
    if (print_events) {
        fputs(line, stdout);
        fflush(stdout);
    }
    on_event(user, j, ev, line);
}

int retire_all_main(int argc, char **argv, const cli_globals *g)
{
    long jobs = 1, cool_off = 7, max_learners = 300, max_failures = 5, worker_learners = 100, worker_rss_mib = 512;
    const char *shard_text = NULL, *config_file = NULL, *reason = NULL;
    int force_large = 0, events = 0, dry_run = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int missing = 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (cli_opt_flag(argv[i], "--all")) {
            continue;
        } else if (!strncmp(argv[i], "-j", 2) && argv[i][2]) {
            if (cli_parse_long("-j", argv[i] + 2, &jobs)) return CLI_EXIT_USAGE;
        } else if ((v = cli_opt_value(argc, argv, &i, "-j", &missing)) ||
                   (v = cli_opt_value(argc, argv, &i, "--jobs", &missing))) {
            if (cli_parse_long("--jobs", v, &jobs)) return CLI_EXIT_USAGE;
        } else if ((v = cli_opt_value(argc, argv, &i, "--cool-off-days", &missing))) {
            if (cli_parse_long("--cool-off-days", v, &cool_off)) return CLI_EXIT_USAGE;
        } else if ((v = cli_opt_value(argc, argv, &i, "--max-learners", &missing))) {
            if (cli_parse_long("--max-learners", v, &max_learners)) return CLI_EXIT_USAGE;
        } else if ((v = cli_opt_value(argc, argv, &i, "--max-consecutive-failures", &missing))) {
            if (cli_parse_long("--max-consecutive-failures", v, &max_failures) || max_failures < 0) return CLI_EXIT_USAGE;
        } else if ((v = cli_opt_value(argc, argv, &i, "--worker-max-learners", &missing))) {
            if (cli_parse_long("--worker-max-learners", v, &worker_learners) || worker_learners < 0) return CLI_EXIT_USAGE;
        } else if ((v = cli_opt_value(argc, argv, &i, "--worker-max-rss-mib", &missing))) {
            if (cli_parse_long("--worker-max-rss-mib", v, &worker_rss_mib) || worker_rss_mib < 0) return CLI_EXIT_USAGE;
        } else if ((v = cli_opt_value(argc, argv, &i, "--shard", &missing))) {
            shard_text = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--config-file", &missing))) {
            config_file = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--reason", &missing))) {
            reason = v;
        } else if (cli_opt_flag(argv[i], "--force-large")) {
            force_large = 1;
        } else if (cli_opt_flag(argv[i], "--events")) {
            events = 1;
        } else if (cli_opt_flag(argv[i], "--dry-run")) {
            dry_run = 1;
        } else {
            if (!missing)
                fprintf(stderr, "retirectl retire --all: %s '%s'%s (see retirectl retire --all --help)\n",
                        argv[i][0] == '-' ? "unknown option" : "unexpected argument", argv[i],
                        argv[i][0] == '-' ? "" : ": --all takes no USER");
            return CLI_EXIT_USAGE;
        }
        if (missing) return CLI_EXIT_USAGE;
    }
    if (jobs < 1 || jobs > ALL_MAX_JOBS) {
        fprintf(stderr, "retirectl retire --all: -j must be 1..%d, not %ld\n", ALL_MAX_JOBS, jobs);
        return CLI_EXIT_USAGE;
    }
    shard_spec shard = {0, 1};
    char err[2048] = "";
    if (shard_text && shard_parse(shard_text, &shard, err, sizeof err) != 0) {
        fprintf(stderr, "retirectl retire --all: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    print_events = events;

    cli_ctx ctx;
    int rc = cli_open(&ctx, g, config_file, CLI_NEED_VALIDATE | CLI_NEED_LMS | CLI_NEED_REG);
    if (rc) {
        if (!events && g && g->json) print_json_failure(NULL, 0, rc);
        return rc;
    }
    int status = 0, summary_printed = 0;
    cJSON *queue = NULL;
    char **names = NULL;
    size_t n_names = 0;
    audit_log *audit = NULL;
    slot *slots = NULL;
    job_ctx *jc = job_ctx_new_with(ctx.config, ctx.http, ctx.lms, ctx.registry, err, sizeof err);
    if (!jc || job_ctx_prepare(jc, err, sizeof err) != 0) {
        cli_error(ctx.config, "Unexpected error occurred! %s", err);
        status = CLI_EXIT_SETUP;
        goto out;
    }

    /* one debug event per HTTP request is most of a bulk run's event traffic: keep info and up
     * unless the caller wants the full stream */
    if (!events) job_ctx_set_http_log_level(jc, RD_LOG_INFO);
    /* a worker retires learner after learner (its connection and drivers stay); one that
     * crashes or times out fails only the learner in flight and a fresh one takes the rest */
    job_ctx_set_reuse_workers(jc, 1);
    /* ...and is replaced after a number of learners or past a memory size (a leaking driver) */
    job_ctx_set_recycle(jc, (int)worker_learners, (long long)worker_rss_mib * 1024 * 1024);

    /* the queue: PENDING + every end state, as get_learners_to_retire.py asks */
    size_t n_states = ctx.config->n_steps + 1;
    const char **states = calloc(n_states, sizeof *states);
    states[0] = PLAN_START_STATE;
    for (size_t i = 0; i < ctx.config->n_steps; i++) states[i + 1] = ctx.config->steps[i].end_state;
    lms_error le;
    memset(&le, 0, sizeof le);
    int qrc = lms_queue(ctx.lms, states, n_states, cool_off, 0, &queue, &le);
    free(states);
    if (qrc != 0 || !cJSON_IsArray(queue)) {
        cli_error(ctx.config, "Unexpected error fetching the retirement queue: %s",
                  qrc ? le.message : "the answer is not a JSON list");
        lms_error_clear(&le);
        status = CLI_EXIT_SETUP;
        goto out;
    }

    /* this shard's learners, each once, in queue order (an open-addressing set on the FNV
     * hash finds repeats in O(1), so a queue of 100,000 stays fast) */
    size_t total_queue = (size_t)cJSON_GetArraySize(queue);
    names = calloc(total_queue + 1, sizeof *names);
    size_t set_cap = 16;
    while (set_cap < 2 * total_queue + 2) set_cap *= 2;
    char **set = calloc(set_cap, sizeof *set);
    const cJSON *item;
    size_t no_name = 0;
    cJSON_ArrayForEach(item, queue)
    {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(item, "original_username");
        if (!cJSON_IsString(u) || !u->valuestring[0]) {
            no_name++;
            continue;
        }
        if (!shard_contains(&shard, u->valuestring)) continue;
        size_t h = (size_t)shard_hash(u->valuestring) & (set_cap - 1);
        while (set[h] && strcmp(set[h], u->valuestring)) h = (h + 1) & (set_cap - 1);
        if (set[h]) continue; /* listed twice: one worker only */
        set[h] = names[n_names++] = strdup(u->valuestring);
    }
    free(set);
    cJSON_Delete(queue); /* a smaller supervisor forks faster */
    queue = NULL;
    if (no_name) cli_error(ctx.config, "%zu queue entries have no original_username and were skipped", no_name);
    char shard_buf[32];
    shard_format(&shard, shard_buf, sizeof shard_buf);
    if ((long)n_names > max_learners && !force_large) {
        cli_error(ctx.config,
                  "Too many learners to retire! Expected %ld or fewer, got %zu! (queue of %zu%s%s). Nothing was "
                  "done; check the queue, then raise --max-learners or pass --force-large.",
                  max_learners, n_names, total_queue, shard.count > 1 ? ", shard " : "",
                  shard.count > 1 ? shard_buf : "");
        status = CLI_EXIT_SETUP;
        goto out;
    }
    if (dry_run) {
        for (size_t k = 0; k < n_names; k++) printf("%s\n", names[k]);
        /* a pipeline that cannot run would refuse every learner: say so now, as plan does for one */
        char problems[8192] = "";
        int n_problems = n_names ? cli_check_pipeline_drivers(ctx.config, g, problems, sizeof problems) : 0;
        if (n_problems) {
            size_t pl = strlen(problems);
            while (pl > 0 && problems[pl - 1] == '\n') problems[--pl] = '\0';
            cli_error(ctx.config,
                      "%zu learner%s queued (queue %zu, shard %s), but the pipeline cannot run (%d problem%s), so "
                      "each would be refused:\n%s\nNothing was done; fix the pipeline (`retirectl check-config`).",
                      n_names, n_names == 1 ? "" : "s", total_queue, shard_buf, n_problems, n_problems == 1 ? "" : "s",
                      problems);
            status = CLI_EXIT_SETUP;
            goto out;
        }
        fprintf(stderr, "%zu learner%s would be retired (queue %zu, shard %s); nothing was done.\n", n_names,
                n_names == 1 ? "" : "s", total_queue, shard_buf);
        goto out;
    }
    if (n_names == 0) {
        if (!events) printf("No learners to retire (queue %zu, shard %s).\n", total_queue, shard_buf);
        goto out;
    }

    audit_count counts[4] = {{"queued", (long long)n_names}, {"complete", 0}, {"failed", 0}, {"not_started", 0}};
    audit_entry ae;
    audit_entry_init(&ae, "retire-all");
    ae.reason = reason;
    ae.shard = shard.count > 1 ? shard_buf : NULL;
    ae.counts = counts;
    ae.n_counts = 1;
    if (audit_open(ctx.config, g ? g->operator_name : NULL, &audit, err, sizeof err) != 0 ||
        audit_begin(audit, &ae, err, sizeof err) != 0) {
        cli_error(ctx.config, "%s", err);
        status = CLI_EXIT_SETUP;
        goto out;
    }
    job_ctx_set_audit(jc, g ? g->operator_name : NULL, reason);

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    signal(SIGPIPE, SIG_IGN); /* a closed stdout (| head) must not kill the supervisor mid-run */

    int tty = !events && isatty(STDERR_FILENO);
    size_t n_slots = (size_t)jobs < n_names ? (size_t)jobs : n_names;
    slots = calloc(n_slots, sizeof *slots);
    size_t next = 0, active = 0, done = 0, failed = 0;
    int cancel_seen = 0, audit_broken = 0, breaker = 0, setup_streak = 0, fail_streak = 0, tripped = 0;
    char fail_key[600] = "";
    char *fail_reason = NULL;
    char **failures = calloc(n_names, sizeof *failures);
    size_t n_failures = 0;
    double t0 = job_now(), last_draw = 0;
    struct pollfd *pfd = calloc(n_slots, sizeof *pfd);

    while (active > 0 || (next < n_names && !all_cancel && !audit_broken && !breaker && !tripped)) {
        /* fill free slots */
        for (size_t s = 0; s < n_slots && next < n_names && !all_cancel && !audit_broken && !breaker && !tripped; s++) {
            if (slots[s].j) continue;
            job_spec spec;
            memset(&spec, 0, sizeof spec);
            spec.username = names[next];
            spec.action = JOB_RETIRE;
            spec.label = "retire";
            spec.reason = reason;
            slot_clear(&slots[s]);
            slots[s].learner = next;
            /* a bad record (control characters) is never retired; a learner another retirectl on
             * this host holds is left to it */
            int refused = 0;
            const char *why = NULL;
            char whybuf[2800];
            if (job_has_control_chars(names[next])) {
                refused = CLI_EXIT_BAD_LEARNER;
                why = "bad learner record: the queue's original_username contains a control character; not retired";
            } else {
                lease_holder h;
                int lr = lease_acquire(NULL, cfg_string(ctx.config, "base_urls.lms"), names[next], "retirectl retire --all",
                                       &slots[s].held, &h, err, sizeof err);
                if (lr != 0) {
                    refused = lr > 0 ? CLI_EXIT_WORKING_STATE : CLI_EXIT_SETUP;
                    char who[640];
                    lease_describe(&h, who, sizeof who);
                    snprintf(whybuf, sizeof whybuf, "%s%s", lr > 0 ? "being worked on by " : "", lr > 0 ? who : err);
                    why = whybuf;
                }
            }
            if (!refused) {
                slots[s].j = job_start(jc, &spec, on_event_print, &slots[s], err, sizeof err);
                if (!slots[s].j) {
                    refused = CLI_EXIT_SETUP;
                    snprintf(whybuf, sizeof whybuf, "could not start a worker: %s", err);
                    why = whybuf;
                }
            }
            if (refused) {
                char *shown = cli_inert(names[next]);
                cli_error(ctx.config, "not started: %s: %s", shown ? shown : names[next], why);
                free(shown);
                failures[n_failures++] = strdup(names[next]);
                failed++;
                audit_entry it;
                audit_entry_init(&it, "retire");
                const char *pii[] = {names[next], NULL};
                it.pii = pii;
                it.outcome = refused == CLI_EXIT_SETUP ? "not_started" : "refused";
                it.exit_status = refused;
                it.detail = why;
                if (audit_item(audit, &it, err, sizeof err) != 0) audit_broken = 1;
                slot_clear(&slots[s]);
            } else {
                active++;
            }
            next++;
        }
        if (all_cancel && cancel_seen < all_cancel && cancel_seen < 2) {
            cancel_seen++;
            for (size_t s = 0; s < n_slots; s++)
                if (slots[s].j) job_cancel(slots[s].j);
            if (!events)
                fprintf(stderr, "%sretirectl: stopping: %zu learner%s in flight finish their step%s\n",
                        tty ? "\r\033[K" : "", active, active == 1 ? "" : "s",
                        cancel_seen == 1 ? " (signal again to stop them now)" : "");
        }
        if (!active) break;
        int timeout = 250;
        nfds_t np = 0;
        size_t map[ALL_MAX_JOBS];
        for (size_t s = 0; s < n_slots; s++) {
            if (!slots[s].j) continue;
            int t = job_poll_timeout_ms(slots[s].j);
            int fd = job_fd(slots[s].j);
            if (fd < 0 && t > 1) t = 1; /* its worker is exiting: reap it (and refill the slot) soon */
            if (t >= 0 && t < timeout) timeout = t;
            if (fd >= 0) {
                pfd[np].fd = fd;
                pfd[np].events = POLLIN;
                pfd[np].revents = 0;
                map[np] = s;
                np++;
            }
        }
        int ready = np ? poll(pfd, np, timeout) : 0;
        if (ready < 0 && errno != EINTR) {
            cli_error(ctx.config, "poll failed: %s", strerror(errno));
        } else if (!np && timeout > 0) {
            usleep((useconds_t)timeout * 1000u);
        }
        if (ready == 0 && timeout >= 100 && audit_sync(audit, err, sizeof err) != 0 && !audit_broken) {
            audit_broken = 1; /* idle: flush item lines written since the last fsync */
            cli_error(ctx.config, "%s; no new learner is started", err);
        }
        for (nfds_t p = 0; p < np; p++)
            if (pfd[p].revents) job_on_readable(slots[map[p]].j);
        double now = job_now();
        for (size_t s = 0; s < n_slots; s++) {
            slot *sl = &slots[s];
            if (!sl->j) continue;
            job_tick(sl->j, now);
            if (!job_done(sl->j)) continue;
            int st = job_exit_status(sl->j);
            const char *name = names[sl->learner];
            if (st == CLI_EXIT_SETUP) {
                /* could not even read the learner: if it keeps happening the LMS is down or the
                 * credentials are wrong; stop starting learners instead of walking the queue */
                if (++setup_streak == ALL_SETUP_STREAK && !breaker) {
                    breaker = 1;
                    char *last = one_line(job_message(sl->j));
                    cli_error(ctx.config,
                              "%d learners in a row failed before any step (last: %s); the LMS looks unreachable, "
                              "refuses the credentials, or the pipeline cannot run (`retirectl check-config` "
                              "says which). No new learner is started; fix it and run again.",
                              ALL_SETUP_STREAK, last ? last : job_message(sl->j));
                    free(last);
                }
            } else {
                setup_streak = 0;
            }
            /* the circuit breaker: the same DRIVER.method failing for learner after learner is a
             * broken driver or service, not a bad learner; stop before it ERRORs the whole queue */
            const audit_step *fs = NULL;
            for (size_t k = 0; k < sl->n_steps; k++)
                if (sl->steps[k].status && !strcmp(sl->steps[k].status, "failed")) fs = &sl->steps[k];
            if (st == 0) {
                fail_streak = 0;
            } else if (fs && fs->driver && fs->method) {
                char key[sizeof fail_key];
                snprintf(key, sizeof key, "%s.%s", fs->driver, fs->method);
                fail_streak = strcmp(key, fail_key) == 0 ? fail_streak + 1 : 1;
                snprintf(fail_key, sizeof fail_key, "%s", key);
                free(fail_reason);
                fail_reason = one_line(job_message(sl->j));
                if (max_failures > 0 && fail_streak >= max_failures && !tripped) {
                    tripped = 1;
                    cli_error(ctx.config,
                              "circuit breaker: %d learners in a row failed in %s (last reason: %s). No new learner "
                              "is started; fix the driver or its service, then `retirectl resume` the failed ones "
                              "and run again.",
                              fail_streak, fail_key, fail_reason ? fail_reason : "");
                }
            }
            if (st == 0) {
                done++;
            } else {
                failed++;
                failures[n_failures++] = strdup(name);
                if (!events) {
                    char *line = one_line(job_message(sl->j));
                    char *msg = cli_inert(line ? line : job_message(sl->j));
                    char *shown_name = cli_inert(name);
                    fprintf(stderr, "%sFAILED %s (exit %d, %s): %s\n", tty ? "\r\033[K" : "",
                            shown_name ? shown_name : name, st, job_outcome(sl->j), msg ? msg : "");
                    free(shown_name);
                    free(msg);
                    free(line);
                }
            }
            audit_entry it;
            audit_entry_init(&it, "retire");
            const char *pii[] = {name, NULL};
            it.pii = pii;
            it.user_id = job_lms_user_id(sl->j) > 0 ? job_lms_user_id(sl->j) : -1;
            it.retirement_id = job_retirement_id(sl->j) > 0 ? job_retirement_id(sl->j) : -1;
            it.steps = sl->steps;
            it.n_steps = sl->n_steps;
            it.outcome = job_outcome(sl->j);
            it.exit_status = st;
            it.shard = ae.shard;
            if (audit_item(audit, &it, err, sizeof err) != 0 && !audit_broken) {
                audit_broken = 1;
                cli_error(ctx.config, "%s; no new learner is started", err);
            }
            job_free(sl->j);
            slot_clear(sl);
            active--;
        }
        if (tty && (now - last_draw >= 0.2 || active == 0)) {
            double el = now - t0;
            fprintf(stderr, "\r\033[Kdone %zu / failed %zu / remaining %zu / %.1f learners/s", done, failed,
                    n_names - done - failed, el > 0 ? (double)(done + failed) / el : 0.0);
            fflush(stderr);
            last_draw = now;
        }
    }
    if (tty) fputs("\r\033[K", stderr);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    double elapsed = job_now() - t0;
    size_t not_started = n_names - done - failed;
    int final_status = all_cancel ? ALL_EXIT_CANCELLED
                       : tripped ? ALL_EXIT_BREAKER
                       : (failed || not_started || audit_broken) ? CLI_EXIT_RETIRING
                                                                 : 0;
    summary_printed = 1;
    if (!events && g && g->json) {
        /* one JSON object for scripts (Jenkins, Kubernetes): counts and who did not complete */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "queued", (double)n_names);
        cJSON_AddNumberToObject(o, "complete", (double)done);
        cJSON_AddNumberToObject(o, "failed", (double)failed);
        cJSON_AddNumberToObject(o, "not_started", (double)not_started);
        cJSON_AddNumberToObject(o, "jobs", (double)jobs);
        cJSON_AddStringToObject(o, "shard", shard_buf);
        cJSON_AddNumberToObject(o, "seconds", elapsed);
        cJSON_AddNumberToObject(o, "workers_recycled", job_ctx_workers_recycled(jc));
        if (tripped) {
            cJSON *b = cJSON_AddObjectToObject(o, "circuit_breaker");
            cJSON_AddStringToObject(b, "step", fail_key);
            cJSON_AddNumberToObject(b, "consecutive_failures", fail_streak);
            cJSON_AddStringToObject(b, "last_reason", fail_reason ? fail_reason : "");
            cJSON_AddNumberToObject(b, "not_started", (double)not_started);
        }
        cJSON *fl = cJSON_AddArrayToObject(o, "failed_learners");
        for (size_t k = 0; k < n_failures; k++) cJSON_AddItemToArray(fl, cJSON_CreateString(failures[k]));
        cJSON_AddNumberToObject(o, "exit_status", final_status);
        char *text = cJSON_PrintUnformatted(o);
        cli_print_scrubbed(ctx.config, text);
        fputc('\n', stdout);
        free(text);
        cJSON_Delete(o);
    } else if (!events) {
        printf("Retired %zu of %zu learner%s in %.1f s (%.1f learners/s, -j %ld%s%s): %zu complete, %zu failed",
               done, n_names, n_names == 1 ? "" : "s", elapsed, elapsed > 0 ? (double)(done + failed) / elapsed : 0.0,
               jobs, shard.count > 1 ? ", shard " : "", shard.count > 1 ? shard_buf : "", done, failed);
        if (not_started) printf(", %zu not started", not_started);
        printf(".\n");
        if (tripped) {
            char *shown = cli_inert(fail_reason ? fail_reason : "");
            printf("Stopped by the circuit breaker: %d learners in a row failed in %s; %zu not started. Last reason: "
                   "%s\n",
                   fail_streak, fail_key, not_started, shown ? shown : "");
            free(shown);
        }
        for (size_t k = 0; k < n_failures; k++) {
            char *shown = cli_inert(failures[k]);
            printf("  failed: %s\n", shown ? shown : failures[k]);
            free(shown);
        }
        if (n_failures) printf("See `retirectl status USER` for each; `retirectl resume USER` once fixed.\n");
    }
    for (size_t k = 0; k < n_failures; k++) free(failures[k]);
    free(failures);
    free(pfd);
    status = final_status;
    counts[1].value = (long long)done;
    counts[2].value = (long long)failed;
    counts[3].value = (long long)not_started;
    ae.n_counts = 4;
    ae.outcome = status == 0 ? "complete" : all_cancel ? "cancelled" : tripped ? "stopped" : "failed";
    ae.exit_status = status;
    char breaker_detail[1200];
    if (tripped) {
        snprintf(breaker_detail, sizeof breaker_detail,
                 "circuit breaker: %d learners in a row failed in %s; %zu not started; last reason: %s", fail_streak,
                 fail_key, not_started, fail_reason ? fail_reason : "");
        ae.detail = breaker_detail;
    } else if (breaker) ae.detail = "stopped early: learners kept failing before any step (LMS unreachable?)";
    else if (audit_broken) ae.detail = "stopped early: the audit log could not be written";
    if (audit_end(audit, &ae, err, sizeof err) != 0) cli_error(ctx.config, "%s", err);
    free(fail_reason);

out:
    /* --json: a failure before any learner ran still gives the one object scripts parse */
    if (!summary_printed && status != 0 && !dry_run && !events && g && g->json) print_json_failure(ctx.config, n_names, status);
    if (slots) {
        for (size_t s = 0; s < (size_t)jobs && s < n_names; s++) {
            if (slots[s].j) job_free(slots[s].j);
            slot_clear(&slots[s]);
        }
        free(slots);
    }
    audit_close(audit);
    for (size_t k = 0; names && k < n_names; k++) free(names[k]);
    free(names);
    cJSON_Delete(queue);
    if (jc) job_ctx_free(jc);
    cli_close(&ctx);
    return status;
}
