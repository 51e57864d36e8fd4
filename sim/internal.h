/* retirectl-sim internals shared by the sim core files (not for vendor routes: they use sim.h).
 * Locking: s->mu guards states, learners, maps, config and counters; s->fault_mu the fault rules;
 * s->log_mu the request log. Functions named *_locked expect s->mu held by the caller. */
#ifndef RETIRECTL_SIM_INTERNAL_H
#define RETIRECTL_SIM_INTERNAL_H

#include "sim.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "common/strbuf.h"

/* ---- small utilities (util.c; the string buffer is common/strbuf.h) ---- */

void sim_sha1(const void *data, size_t len, unsigned char out[20]);
void sim_sha1_hex(const void *data, size_t len, char out[41]);

/* "2018-10-18T20:35:52.349757Z" (microseconds only when non-zero), as DRF renders. */
void sim_fmt_iso(int64_t us, char out[40]);
/* "2018-10-18 20:35:52.349757+00:00", as Python's str(datetime) in UTC. */
void sim_fmt_py(int64_t us, char out[48]);
/* Python int(str) for decimal strings (whitespace, sign, single underscores). 0 ok, -1 ValueError. */
int sim_py_int(const char *s, long long *out);
/* Python datetime.strptime(s, '%Y-%m-%d'): 0 ok (*us = midnight UTC), else -1 with the ValueError text. */
int sim_py_strptime_ymd(const char *s, int64_t *us, char *err, size_t errlen);
/* Appends Python repr() of a str to b. */
void sim_py_repr_str(strbuf *b, const char *s);
/* Python str() of a JSON value (str for strings, True/False/None, repr for lists/dicts). */
void sim_py_str_json(strbuf *b, const cJSON *v);
/* Python truthiness of a JSON value. */
int sim_py_truthy(const cJSON *v);

/* ---- store (store.c) ---- */

typedef struct sim_state {
    char *name;
    int order, id, dead_end, required;
} sim_state;

typedef struct sim_learner {
    long rid, user_id, profile_id;
    int has_row;   /* has a UserRetirementStatus row */
    int is_active; /* auth user is_active */
    char *username, *email, *profile_name; /* current auth values */
    char *orig_username, *orig_email, *orig_name, *retired_username, *retired_email;
    char uid_key[24];
    int cur, last; /* indexes into s->states */
    int64_t created_us, modified_us;
    strbuf responses;
    cJSON *orgs;         /* array of org strings (all enrollments) */
    int enrollments_active;
    /* partner reporting row */
    int partner_row, partner_processing;
    long partner_id;
    int64_t partner_created_us;
    /* downstream services (seed flags) and what happened there */
    int forum_known, notes_ok, ecommerce_known, credentials_known, demographics_known, license_known;
    long ecommerce_id;
    cJSON *proctoring_backends; /* object name -> bool, or NULL */
    int ecommerce_retired, credentials_retired, demographics_retired, license_retired, forum_retired,
        notes_retired, misc_retired, lms_retired, mailings_retired, proctoring_retired;
} sim_learner;

typedef struct sim_map {
    const char **keys;
    int *vals;
    size_t cap, n;
} sim_map;

typedef struct fault_rule fault_rule;
typedef struct log_entry log_entry;

struct sim_server {
    pthread_mutex_t mu;
    sim_state *states;
    int n_states;
    sim_learner **L;
    size_t n_learners, cap_learners;
    sim_map by_orig, by_retired, by_uid;
    long next_rid, next_partner_id;
    int renamed; /* replace_usernames ran since the last rebuild */

    /* configuration */
    char *client_id, *client_secret, *salt;
    long token_lifetime;
    int legacy_mailings, deactivate_hook;
    unsigned char token_key[16];
    int64_t token_cutoff_ms;

    /* startup seed, for /__sim/reset */
    int demo;
    long gen_count;
    unsigned long long random_seed;
    cJSON *seed_specs; /* array of learner specs from --seed */
    cJSON *fault_file; /* rules from --faults */
    long startup_token_lifetime;
    int startup_legacy_mailings;

    /* fault rules */
    pthread_mutex_t fault_mu;
    fault_rule **faults;
    size_t n_faults;

    /* request log ring */
    pthread_mutex_t log_mu;
    log_entry *log;
    size_t log_cap;
    uint64_t log_next; /* sequence number of the next entry; first is 1 */
    uint64_t log_base; /* entries with seq <= log_base were cleared */

    /* --set NAME=VALUE */
    char **opt_names, **opt_values;
    int n_opts;
    char base_url[64];
    int quiet;
    int stopping; /* set (atomically) at shutdown: injected latencies end early */
};

int store_set_states_list(sim_server *s, const char *const *names, int n, char *err, size_t errlen);
int store_states_from_csv(sim_server *s, const char *csv, char *err, size_t errlen);
int store_states_from_pipeline_yaml(sim_server *s, const char *path, char *err, size_t errlen);
void store_default_states(sim_server *s);
int store_state_index(const sim_server *s, const char *name);
/* Loads the learner specs of a seed file into s->seed_specs. */
int store_load_seed_file(sim_server *s, const char *path, char *err, size_t errlen);
/* (Re)builds all learners from demo + seed specs + generated; clears previous learners. */
int store_rebuild_locked(sim_server *s, char *err, size_t errlen);
/* Adds one learner from a JSON spec (docs/sim.md); returns the learner or NULL with err. */
sim_learner *store_add_spec_locked(sim_server *s, const cJSON *spec, int64_t now_us, char *err, size_t errlen);
/* Rebuilds the username/user-id maps after usernames changed (replace_usernames). */
void store_reindex_locked(sim_server *s);
/* Changes a learner in place (PATCH /__sim/learners): state, flags, orgs, created. 0 or -1 + err. */
int store_patch_locked(sim_server *s, sim_learner *l, const cJSON *patch, char *err, size_t errlen);
sim_learner *store_find_orig_locked(sim_server *s, const char *username);
sim_learner *store_find_retired_locked(sim_server *s, const char *username);
sim_learner *store_find_uid_locked(sim_server *s, long user_id);
/* get_potentially_retired_user_by_username: original, current, retired or hash of the name. */
sim_learner *store_find_any_locked(sim_server *s, const char *username);
void store_retired_values(const sim_server *s, const char *username, const char *email, char **ru, char **re);
cJSON *store_status_json_locked(const sim_server *s, const sim_learner *l);
cJSON *store_dump_json_locked(const sim_server *s, const sim_learner *l);
cJSON *store_states_json_locked(const sim_server *s);
/* "PENDING (step 1)" */
void store_state_str(const sim_server *s, int idx, strbuf *b);
void store_free_learners_locked(sim_server *s);

/* ---- faults (faults.c) ---- */
int faults_add_json(sim_server *s, const cJSON *json, char *err, size_t errlen);
int faults_load_file(sim_server *s, const char *path, char *err, size_t errlen);
void faults_clear(sim_server *s);
cJSON *faults_json(sim_server *s);

/* ---- http (http.c) ---- */
int http_start(sim_server *s, int port, char *err, size_t errlen);
void http_stop(sim_server *s);
void http_log_init(sim_server *s, size_t cap);
/* The sim's answer to an unknown path (Django's HTML 404). */
void http_not_found(sim_response *resp);
/* Django's generic HTML 500 for an unhandled exception. */
void http_server_error(sim_response *resp);

/* ---- LMS + IDA routes (lms.c) ---- */
/* Routes req; returns 1 when a route matched (resp filled). Does auth, faults and 405 itself. */
int lms_route(sim_server *s, const sim_request *req, sim_response *resp);
/* Issues a new token string (malloc'd). */
char *lms_issue_token(sim_server *s, long lifetime, int64_t *expires_ms);

#endif
