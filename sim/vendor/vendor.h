/* retirectl-sim vendor emulation (owner "vendors"): Braze, Amplitude, HubSpot (+ AWS SES),
 * Salesforce and Segment under /vendor/<name>/..., so the five driver plugins are tested end to
 * end over loopback. Routes, credentials, options and fault endpoint names: docs/vendors.md.
 *
 * Each vendor file keeps its own state behind its own mutex and exposes route/reset/dump;
 * vendor.c implements the weak hooks of sim.h and dispatches on the path prefix. */
#ifndef RETIRECTL_SIM_VENDOR_H
#define RETIRECTL_SIM_VENDOR_H

#include "sim.h"

#include <stdint.h>

/* Each route gets `sub`, the path after "/vendor/<name>" (starts with '/' or is ""). Returns 1
 * when handled. */
int vsim_braze_route(sim_server *s, const sim_request *req, const char *sub, sim_response *resp);
int vsim_amplitude_route(sim_server *s, const sim_request *req, const char *sub, sim_response *resp);
int vsim_hubspot_route(sim_server *s, const sim_request *req, const char *sub, sim_response *resp);
int vsim_ses_route(sim_server *s, const sim_request *req, const char *sub, sim_response *resp);
int vsim_salesforce_route(sim_server *s, const sim_request *req, const char *sub, sim_response *resp);
int vsim_segment_route(sim_server *s, const sim_request *req, const char *sub, sim_response *resp);
int vsim_segment_public_route(sim_server *s, const sim_request *req, const char *sub, sim_response *resp);

/* Clear each vendor's recorded state. */
void vsim_braze_reset(void);
void vsim_amplitude_reset(void);
void vsim_hubspot_reset(void);
void vsim_ses_reset(void);
void vsim_salesforce_reset(void);
void vsim_segment_reset(void);

/* Each vendor's recorded state as a new JSON object (caller frees). */
cJSON *vsim_braze_dump(void);
cJSON *vsim_amplitude_dump(void);
cJSON *vsim_hubspot_dump(void);
cJSON *vsim_ses_dump(void);
cJSON *vsim_salesforce_dump(void);
cJSON *vsim_segment_dump(void);

/* ---- helpers (vendor.c) ---- */

/* The sim option `name` (--set name=VALUE) or fallback. */
const char *vsim_opt(sim_server *s, const char *name, const char *fallback);
/* Non-zero when `item` is one of the comma-separated entries of option `name`. */
int vsim_opt_has(sim_server *s, const char *name, const char *item);
/* Whether the Authorization header is exactly "<scheme> <token>". */
int vsim_auth_is(const sim_request *req, const char *scheme, const char *token);
/* The original_username of the learner with this LMS user id (a JSON number or numeric
 * string), malloc'd, or NULL: lets fault rules target a learner on id-keyed vendor routes. */
char *vsim_username_for_id(sim_server *s, const cJSON *id);
/* A stable positive number for a string (FNV-1a), for vids and record ids. */
unsigned long vsim_hash(const char *text);
/* Python-like str() of a JSON scalar into a malloc'd string. */
char *vsim_scalar_text(const cJSON *v);

/* A fixed rate-limit window (Braze per minute, Segment per window, HubSpot per 10 s). */
typedef struct vsim_window {
    int64_t start_ms; /* epoch milliseconds the current window began */
    long used;        /* requests counted in it */
} vsim_window;
/* Counts one request against `limit` requests per `window_ms`; returns 1 when it is allowed, 0
 * when the limit is reached. Sets *remaining (after this request) and *reset_ms (epoch ms when
 * the window ends). Thread-safe (one lock for every window). */
int vsim_window_take(vsim_window *w, long limit, int64_t window_ms, long *remaining, int64_t *reset_ms);
/* Resets a window (under the same lock). */
void vsim_window_clear(vsim_window *w);
/* Epoch milliseconds as ISO 8601 UTC with milliseconds: 2026-12-03T08:12:44.000Z. */
void vsim_iso8601(int64_t ms, char *buf, size_t len);
/* Epoch milliseconds as an RFC 5322 / HTTP date: Thu, 03 Dec 2026 08:12:44 GMT. */
void vsim_http_date(int64_t ms, char *buf, size_t len);

#endif
