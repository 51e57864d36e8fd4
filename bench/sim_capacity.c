/* Benchmark: requests per second retirectl-sim serves for a retirement-like mix (GET retirement_status,
 * PATCH update_retirement_status, POST retire_misc) over keep-alive connections, at 1, 4 and 16
 * concurrent connections. Each client thread owns one libcurl easy handle (one connection) and one
 * learner in a working state. Prints figures; asserts no time.
 * Usage: sim_capacity [SECONDS_PER_RUN] (default 3). */
#include "simproc.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct worker {
    const sim_proc *sim;
    const char *token;
    int index;
    double seconds;
    long requests, errors;
    double max_ms;
} worker;

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs the mix on one keep-alive connection until the time is up. */
static void *run_worker(void *arg)
{
    worker *w = arg;
    CURL *c = curl_easy_init();
    char user[32], status_url[256], update_url[256], misc_url[256], auth[256], upd_body[256], misc_body[128];
    snprintf(user, sizeof user, "bench_%d", w->index);
    snprintf(status_url, sizeof status_url, "%s/api/user/v1/accounts/%s/retirement_status/", w->sim->base_url, user);
    snprintf(update_url, sizeof update_url, "%s/api/user/v1/accounts/update_retirement_status/", w->sim->base_url);
    snprintf(misc_url, sizeof misc_url, "%s/api/user/v1/accounts/retire_misc/", w->sim->base_url);
    snprintf(auth, sizeof auth, "Authorization: JWT %s", w->token);
    snprintf(upd_body, sizeof upd_body,
             "{\"username\": \"%s\", \"new_state\": \"RETIRING_LMS\", \"response\": \"bench\", \"force\": true}", user);
    snprintf(misc_body, sizeof misc_body, "{\"username\": \"%s\"}", user);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    double end = now_s() + w->seconds;
    for (long i = 0; now_s() < end; i++) {
        switch (i % 3) {
        case 0:
            curl_easy_setopt(c, CURLOPT_URL, status_url);
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
            curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
            break;
        case 1:
            curl_easy_setopt(c, CURLOPT_URL, update_url);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, upd_body);
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PATCH");
            break;
        default:
            curl_easy_setopt(c, CURLOPT_URL, misc_url);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, misc_body);
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
            break;
        }
        double t0 = now_s();
        long code = 0;
        if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        double ms = (now_s() - t0) * 1000;
        if (ms > w->max_ms) w->max_ms = ms;
        w->requests++;
        if (code < 200 || code > 299) w->errors++;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

/* Starts a sim with 1000 generated learners plus bench_0..bench_15 in RETIRING_LMS and runs the mix
 * at each connection count in levels (n_levels entries). Returns 0, or 1 when setup failed. */
static int run_series(const char *title, const int *levels, int n_levels, double seconds)
{
    sim_proc sim;
    const char *args[] = {"--learners", "1000", NULL};
    if (sim_start(&sim, args) != 0) {
        fprintf(stderr, "sim_capacity: cannot start retirectl-sim\n");
        return 1;
    }
    /* 16 learners in a working state, one per connection. */
    char body[4096] = "[";
    for (int i = 0; i < 16; i++) {
        char one[128];
        snprintf(one, sizeof one, "%s{\"username\": \"bench_%d\", \"state\": \"RETIRING_LMS\", \"orgs\": [\"edX\"]}",
                 i ? ", " : "", i);
        strcat(body, one);
    }
    strcat(body, "]");
    long st = sim_http(&sim, "POST", "/__sim/learners", NULL, body, NULL);
    char *token = sim_token(&sim);
    if (st != 201 || !token) {
        fprintf(stderr, "sim_capacity: setup failed (add learners: HTTP %ld, token: %s)\n", st, token ? "ok" : "none");
        sim_stop(&sim);
        return 1;
    }
    printf("%s\n", title);
    printf("%-12s %10s %10s %8s %10s\n", "connections", "requests", "req/s", "errors", "max ms");
    for (int li = 0; li < n_levels; li++) {
        int n = levels[li];
        worker ws[16];
        pthread_t th[16];
        memset(ws, 0, sizeof ws);
        double t0 = now_s();
        for (int i = 0; i < n; i++) {
            ws[i] = (worker){.sim = &sim, .token = token, .index = i, .seconds = seconds};
            pthread_create(&th[i], NULL, run_worker, &ws[i]);
        }
        long total = 0, errors = 0;
        double max_ms = 0;
        for (int i = 0; i < n; i++) {
            pthread_join(th[i], NULL);
            total += ws[i].requests;
            errors += ws[i].errors;
            if (ws[i].max_ms > max_ms) max_ms = ws[i].max_ms;
        }
        double el = now_s() - t0;
        printf("%-12d %10ld %10.0f %8ld %10.2f\n", n, total, (double)total / el, errors, max_ms);
        fflush(stdout);
    }
    free(token);
    sim_stop(&sim);
    return 0;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    if (seconds <= 0) seconds = 3.0;
    curl_global_init(CURL_GLOBAL_ALL);
    printf("retirectl-sim capacity: mix GET retirement_status / PATCH update_retirement_status / POST retire_misc,\n"
           "keep-alive, %.1f s per run, client (this program) and sim on the same machine\n\n",
           seconds);
    const int levels[] = {1, 4, 16};
    if (run_series("client and sim free to use every CPU:", levels, 3, seconds)) return 1;
    /* With one connection every request is two cross-CPU wake-ups (client -> sim -> client); on a
     * virtual machine those dominate. Pinning client and sim to one CPU shows the sim's own cost. */
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    if (sched_setaffinity(0, sizeof one, &one) == 0) {
        printf("\n");
        if (run_series("client and sim pinned to CPU 0 (the sim inherits the mask):", levels, 1, seconds)) return 1;
    }
    curl_global_cleanup();
    return 0;
}
