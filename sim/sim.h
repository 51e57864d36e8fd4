/* retirectl-sim: the LMS + IDA + vendor emulator. This header is the contract between the sim core
 * (the sim/ C files, owner "sim") and the vendor routes (sim/vendor/ C files, owner "vendors").
 *
 * Threading: the sim answers each connection on its own thread. Vendor routes may be called
 * concurrently; they must guard their own state with their own mutex. The helpers below are
 * thread-safe unless stated.
 *
 * Ownership: a sim_request and everything it points to belong to the core and live until the route
 * returns. A sim_response's body and headers are heap memory owned by the response; fill them only
 * through the sim_respond_* / sim_response_add_header helpers; the core sends and frees them. */
#ifndef RETIRECTL_SIM_H
#define RETIRECTL_SIM_H

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct sim_server sim_server;

typedef struct sim_request {
    const char *method;        /* "GET", "POST", ... */
    const char *path;          /* percent-decoded path, no query, e.g. "/vendor/braze/users/delete" */
    const char *raw_path;      /* the path exactly as received (still percent-encoded), no query */
    const char *query;         /* raw query string without '?', "" when none */
    const char *body;          /* NUL-terminated request body ("" when none) */
    size_t body_len;
    const char *authorization; /* Authorization header value, NULL when absent */
    const char *content_type;  /* Content-Type header value, NULL when absent */
    void *conn;                /* opaque: used by sim_request_header */
} sim_request;

#define SIM_MAX_EXTRA_HEADERS 8

typedef struct sim_response {
    int status;               /* HTTP status; 0 means "not answered" */
    char *body;               /* malloc'd, may be NULL for an empty body */
    size_t body_len;
    const char *content_type; /* static string; NULL = application/json when body non-empty */
    int n_headers;
    char *header_name[SIM_MAX_EXTRA_HEADERS]; /* malloc'd */
    char *header_value[SIM_MAX_EXTRA_HEADERS];
    int drop_connection;      /* 1: close the connection without answering (fault injection) */
} sim_response;

/* ---- vendor hooks (defined in sim/vendor/ C files; weak, each may be absent) ---- */

/* Called for every request whose path starts with "/vendor/". Return 1 when handled (resp filled),
 * 0 to fall through (the core then answers 404). The core logs the request with the answer's status. */
int sim_vendor_route(sim_server *s, const sim_request *req, sim_response *resp) __attribute__((weak));
/* Called at startup (after options are parsed) and on POST /__sim/reset: (re)initialise vendor state. */
void sim_vendor_reset(sim_server *s) __attribute__((weak));
/* Returns a new cJSON object describing vendor state (caller frees), served at GET /__sim/vendor. */
cJSON *sim_vendor_dump(sim_server *s) __attribute__((weak));

/* ---- request helpers ---- */

/* Value of request header `name` (case-insensitive), NULL when absent. Valid during the route. */
const char *sim_request_header(const sim_request *req, const char *name);
/* Last value (as Django QueryDict.get) of query parameter `key`, percent-decoded (malloc'd, caller frees); NULL when absent. */
char *sim_request_query(const sim_request *req, const char *key);
/* The body parsed as JSON (caller frees with cJSON_Delete); NULL when empty or not valid JSON. */
cJSON *sim_request_json(const sim_request *req);
/* Value of field `key` in an application/x-www-form-urlencoded body, decoded (malloc'd); NULL when absent. */
char *sim_form_value(const char *body, size_t body_len, const char *key);
/* Percent-decodes src[0..len) ('+' -> ' ' when plus_is_space) into a malloc'd NUL-terminated string. */
char *sim_url_decode(const char *src, size_t len, int plus_is_space);

/* ---- response helpers (each replaces any body already set) ---- */

/* status + compact JSON of `json`; takes ownership of json (may be NULL: empty body). */
void sim_respond_json(sim_response *resp, int status, cJSON *json);
/* status + a JSON string literal body, e.g. "\"Unknown retirement state.\"" (DRF Response("text")). */
void sim_respond_json_string(sim_response *resp, int status, const char *text);
/* status + a copy of body with the given content type (NULL: application/json). */
void sim_respond_text(sim_response *resp, int status, const char *content_type, const char *body);
/* status with an empty body (204, bare 404, ...). */
void sim_respond_empty(sim_response *resp, int status);
/* Adds a response header (copied). Ignored beyond SIM_MAX_EXTRA_HEADERS. */
void sim_response_add_header(sim_response *resp, const char *name, const char *value);

/* ---- auth, faults, learners, options ---- */

/* Returns 1 when req carries "Authorization: JWT <token>" with a valid unexpired token issued by
 * POST /oauth2/access_token; otherwise fills resp with the LMS's 401 and returns 0. */
int sim_check_jwt(sim_server *s, const sim_request *req, sim_response *resp);

/* Fault injection (docs/sim.md): finds the first active rule matching `endpoint` (the documented
 * endpoint name, e.g. "braze_delete") or a path substring, the method, and `username` (may be NULL),
 * and consumes one action of it. Latency actions sleep here. Returns 1 when the fault produced the
 * answer (resp filled, or resp->drop_connection set): the route must return it unchanged. Returns 0
 * to answer normally. Vendor routes call this themselves; the core does it for LMS/IDA routes. */
int sim_fault_check(sim_server *s, const char *endpoint, const sim_request *req, const char *username,
                    sim_response *resp);
/* After the route answered: an "after" action matched by sim_fault_check replaces that answer
 * (the LMS did the work, the client never hears of it). Returns 1 when it did. */
int sim_fault_after(sim_response *resp);

/* A copy of the learner's retirement-status object (docs/lms-api.md §2.5) looked up by original, current or
 * retired username; NULL when unknown. Caller frees. */
cJSON *sim_learner_status(sim_server *s, const char *username);
/* Same, by LMS user id (user.id). */
cJSON *sim_learner_status_by_user_id(sim_server *s, long user_id);

/* Value of `--set NAME=VALUE` given on the command line (vendor options), NULL when not set.
 * The returned string lives as long as the server. */
const char *sim_option(sim_server *s, const char *name);
/* "http://127.0.0.1:PORT" of this server. */
const char *sim_base_url(sim_server *s);

#endif
