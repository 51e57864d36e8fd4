/* plan (prefix plan_): a PURE function from a learner's current state name and the pipeline
 * rows to what retire_one_learner.py would do (docs/lms-api.md §3.4, §9.1): refuse (unknown state 250,
 * end state 254, working state 253, checked in upstream order) or run/skip each step
 * (skip when all_states.index(start) < all_states.index(current)).
 * all_states = PENDING + start/end of every row + ERRORED, ABORTED, COMPLETE. No I/O. */
#ifndef RETIRECTL_PLAN_H
#define RETIRECTL_PLAN_H

#include <stddef.h>

#include "engine/config.h"

#define PLAN_START_STATE "PENDING"
#define PLAN_ERROR_STATE "ERRORED"
#define PLAN_ABORTED_STATE "ABORTED"
#define PLAN_COMPLETE_STATE "COMPLETE"

typedef enum plan_refusal {
    PLAN_OK = 0,
    PLAN_UNKNOWN_STATE = 250, /* ERR_UNKNOWN_STATE */
    PLAN_WORKING_STATE = 253, /* ERR_USER_IN_WORKING_STATE */
    PLAN_END_STATE = 254      /* ERR_USER_AT_END_STATE */
} plan_refusal;

typedef enum plan_action { PLAN_RUN = 0, PLAN_SKIP = 1 } plan_action;

typedef struct plan {
    plan_refusal refusal;   /* PLAN_OK or the exit status */
    char message[512];      /* upstream message for end/working state ("User already in end
                               state: S", "User is already in a working state! S"); for an unknown
                               state the caller adds the learner repr ("Unknown learner retirement
                               state for learner: ...") */
    int current_index;      /* index of the current state in all_states, -1 when unknown */
    size_t n_steps;
    plan_action *actions;   /* one per pipeline row (malloc'd; NULL when refused) */
    size_t n_run, n_skip;
} plan;

/* Plans for current_state. Returns 0 (also when refused: see p->refusal) or -1 on allocation
 * failure. Free with plan_free. */
int plan_make(const char *current_state, const cfg_step *steps, size_t n_steps, plan *p);
void plan_free(plan *p);

/* Index of state in all_states (first match, as Python's list.index), or -1. */
int plan_state_index(const char *state, const cfg_step *steps, size_t n_steps);
/* Number of entries of all_states (2 * n_steps + 4). */
size_t plan_all_states_count(size_t n_steps);
/* The i-th entry of all_states (borrowed from steps or a constant), or NULL. */
const char *plan_all_states_at(size_t i, const cfg_step *steps, size_t n_steps);
/* Non-zero for ERRORED, ABORTED, COMPLETE. */
int plan_is_end_state(const char *state);
/* Non-zero when state is the start state of some row. */
int plan_is_working_state(const char *state, const cfg_step *steps, size_t n_steps);
/* Index of the row whose start state is state, or -1. */
int plan_step_of_working_state(const char *state, const cfg_step *steps, size_t n_steps);

#endif
