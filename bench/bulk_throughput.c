/* bench/bulk_throughput: learners per second of `retirectl retire --all -j 1, 4, 8, 16`
 * against retirectl-sim (8-step pipeline, 2,000 PENDING learners), and the ceiling for the
 * same request mix: a minimal in-process libcurl client with 16 keep-alive connections that
 * sends exactly the requests one retirement needs (GET status, then per step PATCH start,
 * POST/PUT the step, PATCH end, then PATCH COMPLETE: 26 requests per learner) with no
 * engine, no fork, no events. Prints both and their ratio. Asserts nothing about time.
 *
 * Usage: bulk_throughput [LEARNERS (default 2000)] [JOBS... (default 1 4 8 16)]
 * Environment: RETIRECTL_BIN, RETIRECTL_SIM_BIN override the built binaries. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "simproc.h"

#define STEPS 8

/* The pipeline: fixture states in table order, built-in drivers. */
static const struct {
    const char *start, *end, *driver, *method;
    const char *verb, *path; /* the request the step sends (ceiling client) */
    int base;                /* 0 lms, 1 ecommerce, 2 credentials */
} pipeline[STEPS] = {
    {"LOCKING_ACCOUNT", "LOCKING_COMPLETE", "LMS", "retirement_lms_retire_misc", "POST",
     "/api/user/v1/accounts/retire_misc/", 0},
    {"RETIRING_CREDENTIALS", "CREDENTIALS_COMPLETE", "CREDENTIALS", "retire_learner", "POST", "/user/retire/", 2},
    {"RETIRING_ECOM", "ECOM_COMPLETE", "ECOMMERCE", "retire_learner", "POST", "/api/v2/user/retire/", 1},
    {"RETIRING_FORUMS", "FORUMS_COMPLETE", "LMS", "retirement_retire_forum", "POST",
     "/api/discussion/v1/accounts/retire_forum/", 0},
    {"RETIRING_ENROLLMENTS", "ENROLLMENTS_COMPLETE", "LMS", "retirement_unenroll", "POST",
     "/api/enrollment/v1/unenroll/", 0},
    {"RETIRING_NOTES", "NOTES_COMPLETE", "LMS", "retirement_retire_notes", "POST", "/api/edxnotes/v1/retire_user/", 0},
    {"RETIRING_LMS", "LMS_COMPLETE", "LMS", "retirement_lms_retire", "POST", "/api/user/v1/accounts/retire/", 0},
    {"ADDING_TO_PARTNER_QUEUE", "PARTNER_QUEUE_COMPLETE", "LMS", "retirement_partner_queue", "PUT",
     "/api/user/v1/accounts/retirement_partner_report/", 0},
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Writes the seed file: n PENDING learners created 30 days ago. Returns a malloc'd path. */
static char *write_seed(int n)
{
    size_t cap = (size_t)n * 80 + 64;
    char *text = malloc(cap);
    size_t len = (size_t)snprintf(text, cap, "{\"learners\": [\n");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s{\"username\": \"bench_%05d\", \"days_ago\": 30}\n",
                                i ? "," : "", i);
    snprintf(text + len, cap - len, "]}\n");
    char *path = write_temp_file("seed.json", text);
    free(text);
    return path;
}

static char *pipeline_yaml(void)
{
    static char buf[4096];
    size_t len = 0;
    for (int i = 0; i < STEPS; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "  - ['%s', '%s', '%s', '%s']\n", pipeline[i].start,
                                pipeline[i].end, pipeline[i].driver, pipeline[i].method);
    return buf;
}

/* Counts learners in a state via the sim's queue endpoint (cool_off_days=0). */
static int count_in_state(const sim_proc *sim, const char *token, const char *state)
{
    char path[256];
    snprintf(path, sizeof path, "/api/user/v1/accounts/retirement_queue/?cool_off_days=0&states=%s", state);
    char *body = NULL;
    long st = sim_http(sim, "GET", path, token, NULL, &body);
    int n = -1;
    if (st == 200 && body) {
        n = 0;
        for (const char *p = body; (p = strstr(p, "\"original_username\"")); p++) n++;
    }
    free(body);
    return n;
}

/* ---- the ceiling client ---- */

typedef struct ceiling_ctx {
    const sim_proc *sim;
    const char *token;
    int n;
    atomic_int next;
    atomic_long requests;
    atomic_int errors;
} ceiling_ctx;

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

/* One request on a kept-alive handle; returns the status. */
static long request(CURL *c, struct curl_slist *hdr, const char *method, const char *url, const char *body)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    if (curl_easy_perform(c) != CURLE_OK) return 0;
    long st = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    return st;
}

static void *ceiling_worker(void *arg)
{
    ceiling_ctx *cx = arg;
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    char auth[2048];
    snprintf(auth, sizeof auth, "Authorization: JWT %s", cx->token);
    struct curl_slist *hdr = curl_slist_append(NULL, auth);
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    const char *bases[3] = {"", "/ecommerce", "/credentials"};
    char url[512], body[512];
    for (;;) {
        int i = atomic_fetch_add(&cx->next, 1);
        if (i >= cx->n) break;
        char user[32];
        snprintf(user, sizeof user, "bench_%05d", i);
        long reqs = 0;
        int bad = 0;
        snprintf(url, sizeof url, "%s/api/user/v1/accounts/%s/retirement_status/", cx->sim->base_url, user);
        bad |= request(c, hdr, "GET", url, NULL) != 200;
        reqs++;
        char patch_url[256];
        snprintf(patch_url, sizeof patch_url, "%s/api/user/v1/accounts/update_retirement_status/", cx->sim->base_url);
        for (int s = 0; s < STEPS; s++) {
            snprintf(body, sizeof body, "{\"username\": \"%s\", \"new_state\": \"%s\", \"response\": \"Starting: %s\"}",
                     user, pipeline[s].start, pipeline[s].start);
            bad |= request(c, hdr, "PATCH", patch_url, body) != 204;
            snprintf(url, sizeof url, "%s%s%s", cx->sim->base_url, bases[pipeline[s].base], pipeline[s].path);
            snprintf(body, sizeof body, "{\"username\": \"%s\"}", user);
            long st = request(c, hdr, pipeline[s].verb, url, body);
            bad |= st >= 300 && st != 404;
            snprintf(body, sizeof body,
                     "{\"username\": \"%s\", \"new_state\": \"%s\", \"response\": \"Ending: %s with response:\\n\"}",
                     user, pipeline[s].end, pipeline[s].end);
            bad |= request(c, hdr, "PATCH", patch_url, body) != 204;
            reqs += 3;
        }
        snprintf(body, sizeof body,
                 "{\"username\": \"%s\", \"new_state\": \"COMPLETE\", \"response\": \"Learner retirement complete.\"}",
                 user);
        bad |= request(c, hdr, "PATCH", patch_url, body) != 204;
        reqs++;
        atomic_fetch_add(&cx->requests, reqs);
        if (bad) atomic_fetch_add(&cx->errors, 1);
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    return NULL;
}

/* Resets the sim to its seed. */
static int sim_reset(const sim_proc *sim)
{
    long st = sim_http(sim, "POST", "/__sim/reset", NULL, "{}", NULL);
    return st >= 200 && st < 300 ? 0 : -1;
}

int main(int argc, char **argv)
{
    int learners = argc > 1 ? atoi(argv[1]) : 2000;
    if (learners < 1) learners = 2000;
    int jobs[16] = {1, 4, 8, 16};
    int n_jobs = 4;
    if (argc > 2) {
        n_jobs = 0;
        for (int i = 2; i < argc && n_jobs < 16; i++) jobs[n_jobs++] = atoi(argv[i]);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char *seed = write_seed(learners);
    const char *args[] = {"--seed", seed, NULL};
    sim_proc sim;
    if (sim_start(&sim, args) != 0) {
        fprintf(stderr, "bulk_throughput: cannot start retirectl-sim\n");
        return 1;
    }
    char extra[512];
    char *state_dir = make_temp_dir();
    snprintf(extra, sizeof extra, "audit_log: %s/audit.jsonl\n", state_dir);
    char *config = sim_write_config(&sim, pipeline_yaml(), extra);
    const char *bin = getenv("RETIRECTL_BIN");
    if (!bin || !*bin) bin = RETIRECTL_BIN;

    printf("bulk_throughput: %d learners, %d-step pipeline, retirectl-sim at %s\n", learners, STEPS, sim.base_url);
    printf("%-10s %10s %12s %10s %10s\n", "workers", "seconds", "learners/s", "complete", "exit");
    double best8 = 0;
    for (int k = 0; k < n_jobs; k++) {
        if (sim_reset(&sim) != 0) fprintf(stderr, "bulk_throughput: /__sim/reset failed\n");
        char jtext[16], maxl[16];
        snprintf(jtext, sizeof jtext, "%d", jobs[k]);
        snprintf(maxl, sizeof maxl, "%d", learners);
        const char *cmd[] = {bin, "--config", config, "retire", "--all", "-j", jtext, "--cool-off-days", "0",
                             "--max-learners", maxl, NULL};
        cmd_result r;
        double t0 = now_s();
        if (run_command(&r, cmd, NULL, NULL, 3600) != 0) {
            fprintf(stderr, "bulk_throughput: cannot run %s\n", bin);
            break;
        }
        double el = now_s() - t0;
        char *token = sim_token(&sim);
        int complete = token ? count_in_state(&sim, token, "COMPLETE") : -1;
        free(token);
        double rate = el > 0 ? learners / el : 0;
        if (jobs[k] == 8) best8 = rate;
        printf("-j %-7d %10.2f %12.1f %10d %10d\n", jobs[k], el, rate, complete, r.status);
        if (r.status != 0) fprintf(stderr, "%s", r.err ? r.err : "");
        fflush(stdout);
        cmd_result_free(&r);
    }

    /* the ceiling: the same request sequence from 16 keep-alive connections */
    sim_reset(&sim);
    char *token = sim_token(&sim);
    ceiling_ctx cx;
    memset(&cx, 0, sizeof cx);
    cx.sim = &sim;
    cx.token = token ? token : "";
    cx.n = learners;
    pthread_t th[16];
    double t0 = now_s();
    for (int i = 0; i < 16; i++) pthread_create(&th[i], NULL, ceiling_worker, &cx);
    for (int i = 0; i < 16; i++) pthread_join(th[i], NULL);
    double el = now_s() - t0;
    double ceiling = el > 0 ? learners / el : 0;
    long reqs = atomic_load(&cx.requests);
    printf("ceiling    %10.2f %12.1f   (%ld requests, %.0f requests/s, %d learners with an unexpected answer)\n", el,
           ceiling, reqs, el > 0 ? reqs / el : 0.0, atomic_load(&cx.errors));
    if (best8 > 0 && ceiling > 0)
        printf("ratio -j 8 / ceiling: %.2f (target >= 0.50)\n", best8 / ceiling);
    free(token);
    sim_stop(&sim);
    free(config);
    free(seed);
    free(state_dir);
    curl_global_cleanup();
    return 0;
}
