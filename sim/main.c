/* retirectl-sim: command line, startup and shutdown. */
#include "internal.h"
#include "common/clock.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CLIENT_ID "retirectl-test-client"
#define DEFAULT_CLIENT_SECRET "s3cret-test-value-9f2c"

static void usage(FILE *f)
{
    fputs("Usage: retirectl-sim [OPTIONS]\n"
          "An emulator of the Open edX LMS retirement API and the IDA retirement endpoints, on 127.0.0.1.\n"
          "Prints 'listening on http://127.0.0.1:PORT' when ready; SIGTERM or SIGINT stop it.\n\n"
          "  --port N                 TCP port on 127.0.0.1 (0, the default: a free port)\n"
          "  --client-id ID           OAuth2 client id accepted by /oauth2/access_token (default " DEFAULT_CLIENT_ID ")\n"
          "  --client-secret SECRET   OAuth2 client secret (default: the test secret of tests/support/simproc.h)\n"
          "  --token-lifetime SECONDS lifetime of issued tokens (default 3600)\n"
          "  --states A,B,...         state table (validated like populate_retirement_states)\n"
          "  --pipeline-config FILE   build the state table from a retirectl YAML config's retirement_pipeline\n"
          "                           (default table: the LMS tests' 22-state fixture)\n"
          "  --seed FILE.json         learners to load (format in docs/sim.md); may be repeated\n"
          "  --learners N             also generate N learners spread over states and creation dates\n"
          "  --random-seed N          seed for --learners (default 1; same seed, same learners)\n"
          "  --demo                   also load a small friendly demo set of learners\n"
          "  --faults FILE.json       fault-injection rules (format in docs/sim.md)\n"
          "  --legacy-mailings        answer retire_mailings as the 2018 LMS did (204) instead of 404\n"
          "  --salt TEXT              RETIRED_USER_SALTS value used for retired username/email hashes\n"
          "  --request-log N          entries kept by the request log ring (default 100000)\n"
          "  --set NAME=VALUE         an option for vendor routes (repeatable)\n"
          "  --help                   this text\n\n"
          "Control endpoints (no auth) live under /__sim/: health, requests, learners, states, reset,\n"
          "faults, config, tokens/expire, vendor. See docs/sim.md.\n",
          f);
}

/* Prints a usage error and returns exit status 2. */
static int bad_usage(const char *fmt, const char *arg) __attribute__((format(printf, 1, 0)));
static int bad_usage(const char *fmt, const char *arg)
{
    fputs("retirectl-sim: ", stderr);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    fprintf(stderr, fmt, arg);
#pragma GCC diagnostic pop
    fputs("\nTry 'retirectl-sim --help'.\n", stderr);
    return 2;
}

/* Parses a non-negative integer option; -1 when invalid. */
static long parse_count(const char *v)
{
    long long n;
    if (sim_py_int(v, &n) || n < 0 || n > 100000000) return -1;
    return (long)n;
}

/* Options of the command line that are used after parsing (the rest go straight into the server). */
typedef struct {
    long port, log_cap;
    const char *states_csv, *pipeline, *faults_file;
    const char *seeds[32];
    int n_seeds;
} sim_args;

/* The server's defaults before the command line. */
static void server_init(sim_server *s)
{
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->fault_mu, NULL);
    pthread_mutex_init(&s->log_mu, NULL);
    s->client_id = xstrdup(DEFAULT_CLIENT_ID);
    s->client_secret = xstrdup(DEFAULT_CLIENT_SECRET);
    s->salt = xstrdup("retirectl-sim-salt");
    s->token_lifetime = 3600;
    s->random_seed = 1;
}

/* --set NAME=VALUE: one more named option for the vendors. 0, or the exit status. */
static int add_set_option(sim_server *s, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) return bad_usage("--set %s: expected NAME=VALUE", arg);
    s->opt_names = xrealloc(s->opt_names, (size_t)(s->n_opts + 1) * sizeof(char *));
    s->opt_values = xrealloc(s->opt_values, (size_t)(s->n_opts + 1) * sizeof(char *));
    s->opt_names[s->n_opts] = xstrndup(arg, (size_t)(eq - arg));
    s->opt_values[s->n_opts] = xstrdup(eq + 1);
    s->n_opts++;
    return 0;
}

/* Reads the command line into s and a. -1 to go on, else the exit status (0 after --help). */
static int parse_args(int argc, char **argv, sim_server *s, sim_args *a)
{
    enum { O_PORT = 1000, O_CID, O_CSEC, O_TLIFE, O_STATES, O_PIPE, O_SEED, O_LEARNERS, O_RSEED, O_DEMO, O_FAULTS,
           O_LEGACY, O_SALT, O_LOG, O_SET, O_HELP };
    static const struct option opts[] = {
        {"port", required_argument, NULL, O_PORT},
        {"client-id", required_argument, NULL, O_CID},
        {"client-secret", required_argument, NULL, O_CSEC},
        {"token-lifetime", required_argument, NULL, O_TLIFE},
        {"states", required_argument, NULL, O_STATES},
        {"pipeline-config", required_argument, NULL, O_PIPE},
        {"seed", required_argument, NULL, O_SEED},
        {"learners", required_argument, NULL, O_LEARNERS},
        {"random-seed", required_argument, NULL, O_RSEED},
        {"demo", no_argument, NULL, O_DEMO},
        {"faults", required_argument, NULL, O_FAULTS},
        {"legacy-mailings", no_argument, NULL, O_LEGACY},
        {"salt", required_argument, NULL, O_SALT},
        {"request-log", required_argument, NULL, O_LOG},
        {"set", required_argument, NULL, O_SET},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case O_PORT:
            a->port = parse_count(optarg);
            if (a->port < 0 || a->port > 65535) return bad_usage("--port %s: expected a port number 0-65535", optarg);
            break;
        case O_CID: free(s->client_id); s->client_id = xstrdup(optarg); break;
        case O_CSEC: free(s->client_secret); s->client_secret = xstrdup(optarg); break;
        case O_TLIFE:
            s->token_lifetime = parse_count(optarg);
            if (s->token_lifetime < 0) return bad_usage("--token-lifetime %s: expected a number of seconds >= 0", optarg);
            break;
        case O_STATES: a->states_csv = optarg; break;
        case O_PIPE: a->pipeline = optarg; break;
        case O_SEED:
            if (a->n_seeds == 32) return bad_usage("too many --seed files (at most 32)%s", "");
            a->seeds[a->n_seeds++] = optarg;
            break;
        case O_LEARNERS:
            s->gen_count = parse_count(optarg);
            if (s->gen_count < 0) return bad_usage("--learners %s: expected a count >= 0", optarg);
            break;
        case O_RSEED: {
            long long v;
            if (sim_py_int(optarg, &v)) return bad_usage("--random-seed %s: expected an integer", optarg);
            s->random_seed = (unsigned long long)v;
            break;
        }
        case O_DEMO: s->demo = 1; break;
        case O_FAULTS: a->faults_file = optarg; break;
        case O_LEGACY: s->legacy_mailings = 1; break;
        case O_SALT: free(s->salt); s->salt = xstrdup(optarg); break;
        case O_LOG:
            a->log_cap = parse_count(optarg);
            if (a->log_cap < 1) return bad_usage("--request-log %s: expected a count >= 1", optarg);
            break;
        case O_SET:
            if (add_set_option(s, optarg)) return 2;
            break;
        case O_HELP: usage(stdout); return 0;
        default:
            if (optopt) {
                for (const struct option *p = opts; p->name; p++)
                    if (p->val == optopt) return bad_usage("option --%s needs a value", p->name);
            }
            return bad_usage("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc) return bad_usage("unexpected argument %s (all options start with --)", argv[optind]);
    if (a->states_csv && a->pipeline)
        return bad_usage("--states and --pipeline-config both give the state table; use one%s", "");
    return -1;
}

/* The state table, seeds and faults the command line names. 0, or the exit status. */
static int load_tables(sim_server *s, const sim_args *a)
{
    char err[1024];
    if (a->states_csv) {
        if (store_states_from_csv(s, a->states_csv, err, sizeof err)) return bad_usage("--states: %s", err);
    } else if (a->pipeline) {
        if (store_states_from_pipeline_yaml(s, a->pipeline, err, sizeof err))
            return bad_usage("--pipeline-config: %s", err);
    } else {
        store_default_states(s);
    }
    for (int i = 0; i < a->n_seeds; i++)
        if (store_load_seed_file(s, a->seeds[i], err, sizeof err)) return bad_usage("--seed: %s", err);
    if (store_rebuild_locked(s, err, sizeof err)) return bad_usage("%s", err);
    if (a->faults_file && faults_load_file(s, a->faults_file, err, sizeof err))
        return bad_usage("--faults: %s", err);
    s->startup_token_lifetime = s->token_lifetime;
    s->startup_legacy_mailings = s->legacy_mailings;
    return 0;
}

/* The key tokens are signed with: random, or time and pid when /dev/urandom cannot be read. */
static void make_token_key(sim_server *s)
{
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd < 0 || read(fd, s->token_key, sizeof s->token_key) != (ssize_t)sizeof s->token_key) {
        uint64_t t = (uint64_t)clk_wall_us() ^ (uint64_t)getpid() << 32;
        memcpy(s->token_key, &t, sizeof t);
    }
    if (fd >= 0) close(fd);
}

/* Serves on port (0: any free one) until SIGTERM, SIGINT or SIGHUP, then stops. The exit status. */
static int serve(sim_server *s, long port)
{
    /* Signals are taken by sigwait in this thread only. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    char err[1024];
    if (sim_vendor_reset) sim_vendor_reset(s);
    if (http_start(s, (int)port, err, sizeof err)) {
        fprintf(stderr, "retirectl-sim: %s\n", err);
        return 2;
    }
    printf("listening on %s\n", s->base_url);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    __atomic_store_n(&s->stopping, 1, __ATOMIC_RELAXED);
    http_stop(s);
    pthread_mutex_lock(&s->mu);
    store_free_learners_locked(s);
    pthread_mutex_unlock(&s->mu);
    faults_clear(s);
    return 0;
}

int main(int argc, char **argv)
{
    static sim_server srv;
    sim_server *s = &srv;
    server_init(s);
    sim_args a = {.port = 0, .log_cap = 100000};
    int rc = parse_args(argc, argv, s, &a);
    if (rc >= 0) return rc;
    if ((rc = load_tables(s, &a)) != 0) return rc;
    make_token_key(s);
    http_log_init(s, (size_t)a.log_cap);
    return serve(s, a.port);
}
