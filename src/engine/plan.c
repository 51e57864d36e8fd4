/* plan: the pure run/skip/refuse decision of retire_one_learner.py. See plan.h. */
#include "engine/plan.h"
#include "common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const END_STATES[3] = {PLAN_ERROR_STATE, PLAN_ABORTED_STATE, PLAN_COMPLETE_STATE};

size_t plan_all_states_count(size_t n_steps)
{
    return 2 * n_steps + 4;
}

const char *plan_all_states_at(size_t i, const cfg_step *steps, size_t n_steps)
{
    if (i == 0) return PLAN_START_STATE;
    if (i <= 2 * n_steps) {
        const cfg_step *s = &steps[(i - 1) / 2];
        return (i % 2) ? s->start_state : s->end_state;
    }
    size_t k = i - 1 - 2 * n_steps;
    return k < 3 ? END_STATES[k] : NULL;
}

int plan_state_index(const char *state, const cfg_step *steps, size_t n_steps)
{
    if (!state) return -1;
    size_t n = plan_all_states_count(n_steps);
    for (size_t i = 0; i < n; i++) {
        const char *s = plan_all_states_at(i, steps, n_steps);
        if (s && strcmp(s, state) == 0) return (int)i;
    }
    return -1;
}

int plan_is_end_state(const char *state)
{
    if (!state) return 0;
    for (size_t i = 0; i < 3; i++)
        if (strcmp(state, END_STATES[i]) == 0) return 1;
    return 0;
}

int plan_step_of_working_state(const char *state, const cfg_step *steps, size_t n_steps)
{
    if (!state) return -1;
    for (size_t i = 0; i < n_steps; i++)
        if (steps[i].start_state && strcmp(steps[i].start_state, state) == 0) return (int)i;
    return -1;
}

int plan_is_working_state(const char *state, const cfg_step *steps, size_t n_steps)
{
    return plan_step_of_working_state(state, steps, n_steps) >= 0;
}

int plan_make(const char *current_state, const cfg_step *steps, size_t n_steps, plan *p)
{
    memset(p, 0, sizeof *p);
    p->n_steps = n_steps;
    p->current_index = plan_state_index(current_state, steps, n_steps);
    /* Upstream order: index lookup (ValueError -> unknown), then end state, then working state. */
    if (p->current_index < 0) {
        p->refusal = PLAN_UNKNOWN_STATE;
        snprintf(p->message, sizeof p->message, "Unknown learner retirement state for learner: %s",
                 current_state ? current_state : "");
        return 0;
    }
    if (plan_is_end_state(current_state)) {
        p->refusal = PLAN_END_STATE;
        snprintf(p->message, sizeof p->message, "User already in end state: %s", current_state);
        return 0;
    }
    if (plan_is_working_state(current_state, steps, n_steps)) {
        p->refusal = PLAN_WORKING_STATE;
        snprintf(p->message, sizeof p->message, "User is already in a working state! %s", current_state);
        return 0;
    }
    p->actions = xcalloc(n_steps ? n_steps : 1, sizeof *p->actions);
    if (!p->actions) return -1;
    /* Upstream compares each start state's first index in all_states with the learner's index,
     * which it increments by one after every step it runs (only differs when a state name is
     * reused by a later row). */
    int learner_index = p->current_index;
    for (size_t i = 0; i < n_steps; i++) {
        int idx = plan_state_index(steps[i].start_state, steps, n_steps);
        if (idx < learner_index) {
            p->actions[i] = PLAN_SKIP;
            p->n_skip++;
        } else {
            p->actions[i] = PLAN_RUN;
            p->n_run++;
            learner_index++;
        }
    }
    return 0;
}

void plan_free(plan *p)
{
    if (!p) return;
    free(p->actions);
    p->actions = NULL;
}
