/* retirectl-sim store: the retirement state table, learners (users + UserRetirementStatus rows),
 * lookups and their JSON forms. Callers hold s->mu (see internal.h). */
#include "internal.h"
#include "common/isotime.h"
#include "common/json.h"
#include "common/clock.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* ---- string map (open addressing; keys are owned by learners) ---- */

static uint64_t fnv1a(const char *k)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *k; k++) h = (h ^ (unsigned char)*k) * 1099511628211ULL;
    return h;
}

static void map_clear(sim_map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static void map_put(sim_map *m, const char *key, int val);

/* Doubles the table. */
static void map_grow(sim_map *m)
{
    sim_map old = *m;
    m->cap = old.cap ? old.cap * 2 : 1024;
    m->n = 0;
    m->keys = xcalloc(m->cap, sizeof *m->keys);
    m->vals = xcalloc(m->cap, sizeof *m->vals);
    for (size_t i = 0; i < old.cap; i++)
        if (old.keys[i]) map_put(m, old.keys[i], old.vals[i]);
    free(old.keys);
    free(old.vals);
}

/* Inserts key -> val unless key is already present (first one wins). */
static void map_put(sim_map *m, const char *key, int val)
{
    if ((m->n + 1) * 2 > m->cap) map_grow(m);
    size_t i = fnv1a(key) & (m->cap - 1);
    while (m->keys[i]) {
        if (!strcmp(m->keys[i], key)) return;
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
}

static int map_get(const sim_map *m, const char *key)
{
    if (!m->cap) return -1;
    size_t i = fnv1a(key) & (m->cap - 1);
    while (m->keys[i]) {
        if (!strcmp(m->keys[i], key)) return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

/* ---- states ---- */

static void free_states(sim_server *s)
{
    for (int i = 0; i < s->n_states; i++) free(s->states[i].name);
    free(s->states);
    s->states = NULL;
    s->n_states = 0;
}

/* Installs a state table with explicit orders (no validation). */
static void set_states(sim_server *s, const char *const *names, const int *orders, int n)
{
    free_states(s);
    s->states = xcalloc((size_t)n, sizeof *s->states);
    for (int i = 0; i < n; i++) {
        sim_state *st = &s->states[i];
        st->name = xstrdup(names[i]);
        st->order = orders[i];
        st->id = i + 1;
        st->dead_end = !strcmp(names[i], "ERRORED") || !strcmp(names[i], "ABORTED") || !strcmp(names[i], "COMPLETE");
        st->required = st->dead_end || !strcmp(names[i], "PENDING");
    }
    s->n_states = n;
}

void store_default_states(sim_server *s)
{
    static const char *const names[] = {
        "PENDING",          "LOCKING_ACCOUNT",        "LOCKING_COMPLETE",     "RETIRING_CREDENTIALS",
        "CREDENTIALS_COMPLETE", "RETIRING_ECOM",      "ECOM_COMPLETE",        "RETIRING_FORUMS",
        "FORUMS_COMPLETE",  "RETIRING_EMAIL_LISTS",   "EMAIL_LISTS_COMPLETE", "RETIRING_ENROLLMENTS",
        "ENROLLMENTS_COMPLETE", "RETIRING_NOTES",     "NOTES_COMPLETE",       "RETIRING_LMS",
        "LMS_COMPLETE",     "ADDING_TO_PARTNER_QUEUE", "PARTNER_QUEUE_COMPLETE", "ERRORED",
        "ABORTED",          "COMPLETE"};
    int orders[22];
    orders[0] = 1;
    for (int i = 1; i < 22; i++) orders[i] = 10 * (i + 1);
    set_states(s, names, orders, 22);
}

int store_set_states_list(sim_server *s, const char *const *names, int n, char *err, size_t errlen)
{
    if (n == 0) {
        snprintf(err, errlen, "the state list is empty (RETIREMENT_STATES does not exist or is empty)");
        return -1;
    }
    static const char *const req[] = {"PENDING", "ERRORED", "ABORTED", "COMPLETE"};
    for (int r = 0; r < 4; r++) {
        int found = 0;
        for (int i = 0; i < n; i++) found |= !strcmp(names[i], req[r]);
        if (!found) {
            snprintf(err, errlen,
                     "the state list does not contain all required states (PENDING,ERRORED,ABORTED,COMPLETE): %s "
                     "is missing",
                     req[r]);
            return -1;
        }
    }
    if (strcmp(names[0], "PENDING")) {
        snprintf(err, errlen, "PENDING must be the first state (the list starts with %s)", names[0]);
        return -1;
    }
    if (n < 4 || strcmp(names[n - 3], "ERRORED") || strcmp(names[n - 2], "ABORTED") || strcmp(names[n - 1], "COMPLETE")) {
        snprintf(err, errlen, "the last three states must be ERRORED, ABORTED, COMPLETE in that order");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (!names[i][0] || strlen(names[i]) > 30) {
            snprintf(err, errlen, "state %d (\"%s\") must be 1 to 30 characters long", i + 1, names[i]);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(names[i], names[j])) {
                snprintf(err, errlen, "state %s is listed twice (positions %d and %d); state names are unique",
                         names[i], j + 1, i + 1);
                return -1;
            }
    }
    int *orders = xmalloc(sizeof(int) * (size_t)n);
    for (int i = 0; i < n; i++) orders[i] = 1 + 10 * i;
    set_states(s, names, orders, n);
    free(orders);
    return 0;
}

int store_states_from_csv(sim_server *s, const char *csv, char *err, size_t errlen)
{
    char *copy = xstrdup(csv);
    const char *names[512];
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t && n < 512; t = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*t)) t++;
        char *e = t + strlen(t);
        while (e > t && isspace((unsigned char)e[-1])) *--e = '\0';
        if (*t) names[n++] = t;
    }
    int rc = store_set_states_list(s, names, n, err, errlen);
    free(copy);
    return rc;
}

/* Reads a YAML file into a cJSON tree (mappings -> objects, sequences -> arrays, scalars -> strings).
 * Returns NULL with err naming the file and line. Caller frees. */
static cJSON *yaml_file_to_json(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open pipeline config %s: %s", path, strerror(errno));
        return NULL;
    }
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    cJSON *stack[64];
    char *keys[64];
    int depth = 0;
    cJSON *root = NULL;
    int done = 0, failed = 0;
    char *pending_key = NULL;
    while (!done && !failed) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            snprintf(err, errlen, "%s:%lu: YAML error: %s", path, (unsigned long)p.problem_mark.line + 1,
                     p.problem ? p.problem : "parse error");
            failed = 1;
            break;
        }
        cJSON *node = NULL;
        int push = 0;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = 1; break;
        case YAML_SCALAR_EVENT: node = cJSON_CreateString((const char *)ev.data.scalar.value); break;
        case YAML_SEQUENCE_START_EVENT: node = cJSON_CreateArray(); push = 1; break;
        case YAML_MAPPING_START_EVENT: node = cJSON_CreateObject(); push = 1; break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth > 0) {
                depth--;
                free(pending_key);
                pending_key = keys[depth];
            }
            break;
        case YAML_ALIAS_EVENT: node = cJSON_CreateNull(); break;
        default: break;
        }
        if (node) {
            cJSON *parent = depth ? stack[depth - 1] : NULL;
            int is_key = 0;
            if (!parent) {
                if (!root) root = node;
                else cJSON_Delete(node), node = NULL;
            } else if (cJSON_IsArray(parent)) {
                cJSON_AddItemToArray(parent, node);
            } else if (!pending_key) {
                /* a mapping key */
                is_key = 1;
                pending_key = xstrdup(cJSON_IsString(node) ? node->valuestring : "");
                cJSON_Delete(node);
                node = NULL;
            } else {
                cJSON_AddItemToObject(parent, pending_key, node);
                free(pending_key);
                pending_key = NULL;
            }
            if (push && node && depth < 64) {
                keys[depth] = pending_key;
                pending_key = NULL;
                stack[depth++] = node;
            }
            (void)is_key;
        }
        yaml_event_delete(&ev);
    }
    free(pending_key);
    for (int i = 0; i < depth; i++) free(keys[i]);
    yaml_parser_delete(&p);
    fclose(f);
    if (failed) {
        cJSON_Delete(root);
        return NULL;
    }
    if (!root) root = cJSON_CreateNull();
    return root;
}

int store_states_from_pipeline_yaml(sim_server *s, const char *path, char *err, size_t errlen)
{
    cJSON *doc = yaml_file_to_json(path, err, errlen);
    if (!doc) return -1;
    int rc = -1;
    cJSON *pipe = cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "retirement_pipeline") : NULL;
    if (!cJSON_IsArray(pipe) || !cJSON_GetArraySize(pipe)) {
        snprintf(err, errlen, "%s: key retirement_pipeline is missing or not a non-empty list", path);
        goto out;
    }
    int n = cJSON_GetArraySize(pipe);
    const char **names = xcalloc((size_t)(2 * n + 4), sizeof *names);
    int k = 0;
    names[k++] = "PENDING";
    for (int i = 0; i < n; i++) {
        cJSON *row = cJSON_GetArrayItem(pipe, i);
        cJSON *a = cJSON_GetArrayItem(row, 0), *b = cJSON_GetArrayItem(row, 1);
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != 4 || !cJSON_IsString(a) || !cJSON_IsString(b)) {
            snprintf(err, errlen,
                     "%s: retirement_pipeline item %d must be a list [start_state, end_state, SERVICE, method]", path,
                     i + 1);
            free(names);
            goto out;
        }
        names[k++] = a->valuestring;
        names[k++] = b->valuestring;
    }
    names[k++] = "ERRORED";
    names[k++] = "ABORTED";
    names[k++] = "COMPLETE";
    char sub[512];
    rc = store_set_states_list(s, names, k, sub, sizeof sub);
    if (rc) snprintf(err, errlen, "%s: retirement_pipeline gives an invalid state list: %s", path, sub);
    free(names);
out:
    cJSON_Delete(doc);
    return rc;
}

int store_state_index(const sim_server *s, const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < s->n_states; i++)
        if (!strcmp(s->states[i].name, name)) return i;
    return -1;
}

void store_state_str(const sim_server *s, int idx, strbuf *b)
{
    sb_addf(b, "%s (step %d)", s->states[idx].name, s->states[idx].order);
}

/* ---- learners ---- */

/* Python-ish lower(): ASCII and Latin-1 capitals (UTF-8 C3 80..C3 9E except C3 97). */
static char *py_lower(const char *in)
{
    char *o = xstrdup(in);
    for (unsigned char *p = (unsigned char *)o; *p; p++) {
        if (*p >= 'A' && *p <= 'Z') *p = (unsigned char)(*p + 32);
        else if (*p == 0xC3 && p[1] >= 0x80 && p[1] <= 0x9E && p[1] != 0x97) {
            p[1] = (unsigned char)(p[1] + 0x20);
            p++;
        }
    }
    return o;
}

void store_retired_values(const sim_server *s, const char *username, const char *email, char **ru, char **re)
{
    strbuf b = {0};
    char hex[41];
    if (ru) {
        char *lu = py_lower(username);
        sb_add(&b, s->salt);
        sb_add(&b, lu);
        sim_sha1_hex(b.data, b.len, hex);
        free(lu);
        b.len = 0;
        sb_addf(&b, "retired__user_%s", hex);
        *ru = xstrdup(b.data);
        b.len = 0;
    }
    if (re) {
        char *le = py_lower(email);
        sb_add(&b, s->salt);
        sb_add(&b, le);
        sim_sha1_hex(b.data, b.len, hex);
        free(le);
        b.len = 0;
        sb_addf(&b, "retired__user_%s@retired.invalid", hex);
        *re = xstrdup(b.data);
    }
    free(b.data);
}

static void learner_free(sim_learner *l)
{
    if (!l) return;
    free(l->username);
    free(l->email);
    free(l->profile_name);
    free(l->orig_username);
    free(l->orig_email);
    free(l->orig_name);
    free(l->retired_username);
    free(l->retired_email);
    free(l->responses.data);
    cJSON_Delete(l->orgs);
    cJSON_Delete(l->proctoring_backends);
    free(l);
}

void store_free_learners_locked(sim_server *s)
{
    for (size_t i = 0; i < s->n_learners; i++) learner_free(s->L[i]);
    free(s->L);
    s->L = NULL;
    s->n_learners = s->cap_learners = 0;
    map_clear(&s->by_orig);
    map_clear(&s->by_retired);
    map_clear(&s->by_uid);
}

void store_reindex_locked(sim_server *s)
{
    map_clear(&s->by_orig);
    map_clear(&s->by_retired);
    map_clear(&s->by_uid);
    for (size_t i = 0; i < s->n_learners; i++) {
        sim_learner *l = s->L[i];
        map_put(&s->by_orig, l->orig_username, (int)i);
        map_put(&s->by_retired, l->retired_username, (int)i);
        map_put(&s->by_uid, l->uid_key, (int)i);
    }
}

sim_learner *store_find_orig_locked(sim_server *s, const char *username)
{
    int i = username ? map_get(&s->by_orig, username) : -1;
    return i < 0 ? NULL : s->L[i];
}

sim_learner *store_find_retired_locked(sim_server *s, const char *username)
{
    int i = username ? map_get(&s->by_retired, username) : -1;
    return i < 0 ? NULL : s->L[i];
}

sim_learner *store_find_uid_locked(sim_server *s, long user_id)
{
    char k[24];
    snprintf(k, sizeof k, "%ld", user_id);
    int i = map_get(&s->by_uid, k);
    return i < 0 ? NULL : s->L[i];
}

sim_learner *store_find_any_locked(sim_server *s, const char *username)
{
    /* The LMS looks up the auth User whose (case-insensitive) username is the name or one of its
     * retired hashes; the current username is the original one, a replacement, or the hash. */
    sim_learner *l = store_find_orig_locked(s, username);
    if (l && !strcasecmp(l->username, username)) return l;
    l = store_find_retired_locked(s, username);
    if (l && !strcmp(l->username, username)) return l;
    char *ru = NULL;
    store_retired_values(s, username, NULL, &ru, NULL);
    l = store_find_retired_locked(s, ru);
    sim_learner *hit = l && (!strcmp(l->username, ru) || !strcasecmp(l->username, username)) ? l : NULL;
    free(ru);
    if (hit) return hit;
    for (size_t i = 0; s->renamed && i < s->n_learners; i++) /* a replaced username: linear scan */
        if (!strcasecmp(s->L[i]->username, username)) return s->L[i];
    return NULL;
}

/* Typed getters for learner specs (strings: common/json.h). */
static int spec_bool(const cJSON *spec, const char *key, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec, key);
    if (!v || cJSON_IsNull(v)) return dflt;
    return sim_py_truthy(v);
}

/* Default last_state for a seeded learner in state cur. */
static int default_last_state(const sim_server *s, int cur)
{
    const char *n = s->states[cur].name;
    if (!strcmp(n, "PENDING")) return cur;
    if (!strcmp(n, "COMPLETE")) return s->n_states - 4; /* the last pipeline state */
    if (!strcmp(n, "ABORTED")) return 0;
    if (!strcmp(n, "ERRORED")) return s->n_states > 4 ? 1 : 0; /* failed in the first working state */
    return cur > 0 ? cur - 1 : 0;
}

/* A seed's state and last_state: "state" is a string, null or "" (no retirement row) or absent
 * (PENDING); last_state defaults by state. 0, or -1 with err naming the learner. */
static int spec_states(const sim_server *s, const cJSON *spec, const char *username, int *has_row, int *cur,
                       int *last, char *err, size_t errlen)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(spec, "state");
    *has_row = 1;
    *cur = 0;
    if (st && (cJSON_IsNull(st) || (cJSON_IsString(st) && !st->valuestring[0]))) *has_row = 0;
    else if (st) {
        *cur = cJSON_IsString(st) ? store_state_index(s, st->valuestring) : -1;
        if (*cur < 0) {
            snprintf(err, errlen, "learner %s: state %s is not in the state table (GET /__sim/states lists it)",
                     username, cJSON_IsString(st) ? st->valuestring : "(not a string)");
            return -1;
        }
    }
    *last = *has_row ? default_last_state(s, *cur) : 0;
    const char *ls = json_str(spec, "last_state");
    if (ls) {
        *last = store_state_index(s, ls);
        if (*last < 0) {
            snprintf(err, errlen, "learner %s: last_state %s is not in the state table", username, ls);
            return -1;
        }
    }
    return 0;
}

/* A seed's creation time: "created" (ISO date or days ago) or "days_ago", else 10 days before
 * now. 0, or -1 with err. */
static int spec_created(const cJSON *spec, const char *username, int64_t now_us, int64_t *created, char *err,
                        size_t errlen)
{
    *created = now_us - (int64_t)10 * 86400 * 1000000;
    const cJSON *cr = cJSON_GetObjectItemCaseSensitive(spec, "created");
    const cJSON *da = cJSON_GetObjectItemCaseSensitive(spec, "days_ago");
    if (cJSON_IsNumber(da)) *created = now_us - (int64_t)(da->valuedouble * 86400.0 * 1e6);
    if (cJSON_IsNumber(cr)) *created = now_us - (int64_t)(cr->valuedouble * 86400.0 * 1e6);
    else if (cJSON_IsString(cr)) {
        if (iso_parse_us(cr->valuestring, created)) {
            snprintf(err, errlen,
                     "learner %s: created \"%s\" is not an ISO date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.ffffff]Z) "
                     "nor a number of days ago",
                     username, cr->valuestring);
            return -1;
        }
    } else if (cr && !cJSON_IsNull(cr)) {
        snprintf(err, errlen, "learner %s: created must be an ISO date string or a number of days ago", username);
        return -1;
    }
    return 0;
}

/* Checks a seed's user_id (unused; 0 when not given) and that orgs and enrollments are lists.
 * 0, or -1 with err. */
static int spec_ids_and_lists(sim_server *s, const cJSON *spec, const char *username, long *user_id, char *err,
                              size_t errlen)
{
    const cJSON *uidv = cJSON_GetObjectItemCaseSensitive(spec, "user_id");
    *user_id = cJSON_IsNumber(uidv) ? (long)uidv->valuedouble : 0;
    if (*user_id && store_find_uid_locked(s, *user_id)) {
        snprintf(err, errlen, "learner %s: user_id %ld is already used by another learner", username, *user_id);
        return -1;
    }
    const cJSON *orgs = cJSON_GetObjectItemCaseSensitive(spec, "orgs");
    const cJSON *enr = cJSON_GetObjectItemCaseSensitive(spec, "enrollments");
    if (orgs && !cJSON_IsArray(orgs)) {
        snprintf(err, errlen, "learner %s: orgs must be a list of org strings", username);
        return -1;
    }
    if (enr && !cJSON_IsArray(enr)) {
        snprintf(err, errlen, "learner %s: enrollments must be a list of course ids", username);
        return -1;
    }
    return 0;
}

/* Ids, original and retired names and emails, and whether the account is already retired. */
static void fill_identity(sim_server *s, sim_learner *l, const cJSON *spec, const char *username, size_t idx,
                          long user_id)
{
    l->user_id = user_id ? user_id : 10000 + (long)idx + 1;
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(spec, "profile_id");
    l->profile_id = cJSON_IsNumber(pid) ? (long)pid->valuedouble : 20000 + (long)idx + 1;
    snprintf(l->uid_key, sizeof l->uid_key, "%ld", l->user_id);
    l->orig_username = xstrdup(username);
    const char *email = json_str(spec, "email");
    if (email) l->orig_email = xstrdup(email);
    else {
        strbuf b = {0};
        for (const char *p = username; *p; p++) sb_addn(&b, (*p == ' ' || *p == '@') ? "_" : p, 1);
        sb_add(&b, "@example.invalid");
        l->orig_email = sb_take(&b);
    }
    const char *name = json_str(spec, "name");
    l->orig_name = xstrdup(name ? name : "");
    store_retired_values(s, l->orig_username, l->orig_email, &l->retired_username, &l->retired_email);
    const char *rn = json_str(spec, "retired_username"), *re = json_str(spec, "retired_email");
    if (rn) free(l->retired_username), l->retired_username = xstrdup(rn);
    if (re) free(l->retired_email), l->retired_email = xstrdup(re);
    int retired = spec_bool(spec, "retired", l->has_row && !strcmp(s->states[l->cur].name, "COMPLETE"));
    l->username = xstrdup(retired ? l->retired_username : l->orig_username);
    l->email = xstrdup(l->has_row ? l->retired_email : l->orig_email);
    l->profile_name = xstrdup(retired ? "" : l->orig_name);
    l->is_active = spec_bool(spec, "is_active", !retired);
    l->lms_retired = retired;
}

/* The retirement row's responses log as the driver writes it, along the seed's "history" states
 * (when given, the last move also sets last_state unless the seed has one). */
static void fill_history(sim_server *s, sim_learner *l, const cJSON *spec, const cJSON *hist)
{
    sb_add(&l->responses, "Created in state ");
    store_state_str(s, 0, &l->responses);
    sb_add(&l->responses, " by create_retirement");
    const char *error = json_str(spec, "error");
    int n = cJSON_GetArraySize(hist);
    for (int i = 1; i < n; i++) {
        const cJSON *a = cJSON_GetArrayItem(hist, i - 1), *b = cJSON_GetArrayItem(hist, i);
        int ia = cJSON_IsString(a) ? store_state_index(s, a->valuestring) : -1;
        int ib = cJSON_IsString(b) ? store_state_index(s, b->valuestring) : -1;
        if (ia < 0 || ib < 0) continue;
        const char *bn = s->states[ib].name;
        size_t bl = strlen(bn);
        sb_add(&l->responses, "\n Moved from ");
        store_state_str(s, ia, &l->responses);
        sb_add(&l->responses, " to ");
        store_state_str(s, ib, &l->responses);
        sb_add(&l->responses, ":\n");
        if (!strcmp(bn, "ERRORED")) sb_add(&l->responses, error ? error : "Error");
        else if (!strcmp(bn, "COMPLETE")) sb_add(&l->responses, "Learner retirement complete.");
        else if (bl > 9 && !strcmp(bn + bl - 9, "_COMPLETE"))
            sb_addf(&l->responses, "Ending: %s with response:\n<Response [204]>", bn);
        else sb_addf(&l->responses, "Starting: %s", bn);
        sb_add(&l->responses, "\n");
        if (i == n - 1 && !json_str(spec, "last_state")) l->last = ia;
    }
}

/* The responses log of a learner with a retirement row: from "history", else one seeded move. */
static void fill_responses(sim_server *s, sim_learner *l, const cJSON *spec)
{
    if (!l->has_row) return;
    const cJSON *hist = cJSON_GetObjectItemCaseSensitive(spec, "history");
    if (cJSON_IsArray(hist) && cJSON_GetArraySize(hist) >= 2) {
        fill_history(s, l, spec, hist);
    } else {
        sb_add(&l->responses, "Created in state ");
        store_state_str(s, 0, &l->responses);
        sb_add(&l->responses, " by create_retirement");
        if (l->cur != 0) {
            sb_add(&l->responses, "\n Moved from ");
            store_state_str(s, l->last, &l->responses);
            sb_add(&l->responses, " to ");
            store_state_str(s, l->cur, &l->responses);
            sb_add(&l->responses, ":\nSeeded by retirectl-sim\n");
        }
    }
    const char *resp = json_str(spec, "responses");
    if (resp) sb_add(&l->responses, resp);
}

/* The learner's orgs: "orgs", then the org of each enrollment's course id not yet listed. */
static void fill_orgs(sim_learner *l, const cJSON *spec)
{
    const cJSON *orgs = cJSON_GetObjectItemCaseSensitive(spec, "orgs");
    const cJSON *enr = cJSON_GetObjectItemCaseSensitive(spec, "enrollments");
    l->orgs = cJSON_CreateArray();
    const cJSON *c;
    if (orgs) cJSON_ArrayForEach(c, orgs) {
            if (cJSON_IsString(c)) cJSON_AddItemToArray(l->orgs, cJSON_CreateString(c->valuestring));
        }
    if (enr) cJSON_ArrayForEach(c, enr) {
            /* course-v1:ORG+COURSE+RUN or ORG/COURSE/RUN */
            if (!cJSON_IsString(c)) continue;
            const char *cid = c->valuestring, *colon = strchr(cid, ':');
            const char *start = colon ? colon + 1 : cid;
            size_t n = strcspn(start, colon ? "+" : "/");
            char org[256];
            snprintf(org, sizeof org, "%.*s", (int)n, start);
            int dup = 0;
            const cJSON *o;
            cJSON_ArrayForEach(o, l->orgs) dup |= !strcmp(o->valuestring, org);
            if (*org && strcmp(org, "outdated_entry") && !dup) cJSON_AddItemToArray(l->orgs, cJSON_CreateString(org));
        }
}

/* What the other services know of the learner (forum, notes, IDAs, proctoring, partner report). */
static void fill_services(sim_server *s, sim_learner *l, const cJSON *spec, size_t idx)
{
    l->enrollments_active = spec_bool(spec, "enrollments_active", cJSON_GetArraySize(l->orgs) > 0);
    l->forum_known = spec_bool(spec, "forum", 1);
    l->notes_ok = spec_bool(spec, "notes", 1);
    l->ecommerce_known = spec_bool(spec, "ecommerce", 1);
    l->credentials_known = spec_bool(spec, "credentials", 1);
    l->demographics_known = spec_bool(spec, "demographics", 0);
    l->license_known = spec_bool(spec, "license_manager", 0);
    const cJSON *eid = cJSON_GetObjectItemCaseSensitive(spec, "ecommerce_id");
    l->ecommerce_id = cJSON_IsNumber(eid) ? (long)eid->valuedouble : 70000 + (long)idx + 1;
    const cJSON *pb = cJSON_GetObjectItemCaseSensitive(spec, "proctoring_backends");
    if (cJSON_IsObject(pb)) l->proctoring_backends = cJSON_Duplicate(pb, 1);
    const char *pr = json_str(spec, "partner_report");
    if (pr && (!strcmp(pr, "queued") || !strcmp(pr, "processing"))) {
        l->partner_row = 1;
        l->partner_processing = !strcmp(pr, "processing");
        l->partner_id = s->next_partner_id++;
        l->partner_created_us = l->modified_us;
    }
}

/* Appends l to the store at index idx and to the three lookup maps. */
static void store_append(sim_server *s, sim_learner *l, size_t idx)
{
    if (s->n_learners == s->cap_learners) {
        s->cap_learners = s->cap_learners ? s->cap_learners * 2 : 256;
        s->L = xrealloc(s->L, s->cap_learners * sizeof *s->L);
    }
    s->L[s->n_learners++] = l;
    map_put(&s->by_orig, l->orig_username, (int)idx);
    map_put(&s->by_retired, l->retired_username, (int)idx);
    map_put(&s->by_uid, l->uid_key, (int)idx);
}

sim_learner *store_add_spec_locked(sim_server *s, const cJSON *spec, int64_t now_us, char *err, size_t errlen)
{
    if (!cJSON_IsObject(spec)) {
        snprintf(err, errlen, "a learner must be a JSON object");
        return NULL;
    }
    const char *username = json_str(spec, "username");
    if (!username || !*username) {
        snprintf(err, errlen, "a learner needs a non-empty string \"username\"");
        return NULL;
    }
    if (store_find_orig_locked(s, username)) {
        snprintf(err, errlen, "learner %s already exists (usernames are unique)", username);
        return NULL;
    }
    int has_row, cur, last;
    int64_t created;
    long user_id;
    if (spec_states(s, spec, username, &has_row, &cur, &last, err, errlen) != 0 ||
        spec_created(spec, username, now_us, &created, err, errlen) != 0 ||
        spec_ids_and_lists(s, spec, username, &user_id, err, errlen) != 0)
        return NULL;

    sim_learner *l = xcalloc(1, sizeof *l);
    size_t idx = s->n_learners;
    l->has_row = has_row;
    l->rid = has_row ? s->next_rid++ : 0;
    l->cur = cur;
    l->last = last;
    fill_identity(s, l, spec, username, idx, user_id);
    l->created_us = created;
    const char *mod = json_str(spec, "modified");
    l->modified_us = created + 1234;
    if (mod && iso_parse_us(mod, &l->modified_us)) l->modified_us = created + 1234;
    fill_responses(s, l, spec);
    fill_orgs(l, spec);
    fill_services(s, l, spec, idx);
    store_append(s, l, idx);
    return l;
}

int store_patch_locked(sim_server *s, sim_learner *l, const cJSON *patch, char *err, size_t errlen)
{
    static const char *const known[] = {"state", "last_state", "created", "days_ago", "orgs", "enrollments_active",
                                        "forum", "notes", "ecommerce", "credentials", "demographics",
                                        "license_manager", "proctoring_backends", NULL};
    if (!cJSON_IsObject(patch)) {
        snprintf(err, errlen, "the change must be a JSON object");
        return -1;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, patch) { /* validate everything before changing anything */
        int ok = 0;
        for (int i = 0; known[i]; i++) ok |= !strcmp(c->string, known[i]);
        if (!ok) {
            snprintf(err, errlen, "key %s cannot be changed (changeable: state, last_state, created, days_ago, orgs, "
                     "enrollments_active, forum, notes, ecommerce, credentials, demographics, license_manager, "
                     "proctoring_backends)", c->string);
            return -1;
        }
    }
    const char *st = json_str(patch, "state"), *ls = json_str(patch, "last_state");
    int si = st ? store_state_index(s, st) : -1, li = ls ? store_state_index(s, ls) : -1;
    if ((st && si < 0) || (ls && li < 0)) {
        snprintf(err, errlen, "state %s is not in the state table", st && si < 0 ? st : ls);
        return -1;
    }
    if ((st || ls) && !l->has_row) {
        snprintf(err, errlen, "learner %s has no retirement row; states cannot be set", l->orig_username);
        return -1;
    }
    int64_t created = l->created_us;
    const cJSON *cr = cJSON_GetObjectItemCaseSensitive(patch, "created"), *da = cJSON_GetObjectItemCaseSensitive(patch, "days_ago");
    if (cJSON_IsNumber(da)) created = clk_wall_us() - (int64_t)(da->valuedouble * 86400.0 * 1e6);
    if (cJSON_IsNumber(cr)) created = clk_wall_us() - (int64_t)(cr->valuedouble * 86400.0 * 1e6);
    else if (cr && (!cJSON_IsString(cr) || iso_parse_us(cr->valuestring, &created))) {
        snprintf(err, errlen, "created must be an ISO date or a number of days ago");
        return -1;
    }
    const cJSON *orgs = cJSON_GetObjectItemCaseSensitive(patch, "orgs");
    if (orgs && !cJSON_IsArray(orgs)) {
        snprintf(err, errlen, "orgs must be a list of org strings");
        return -1;
    }
    l->created_us = created;
    if (st) {
        l->last = l->cur;
        l->cur = si;
    }
    if (ls) l->last = li;
    if (orgs) {
        cJSON_Delete(l->orgs);
        l->orgs = cJSON_Duplicate(orgs, 1);
    }
    l->enrollments_active = spec_bool(patch, "enrollments_active", l->enrollments_active);
    l->forum_known = spec_bool(patch, "forum", l->forum_known);
    l->notes_ok = spec_bool(patch, "notes", l->notes_ok);
    l->ecommerce_known = spec_bool(patch, "ecommerce", l->ecommerce_known);
    l->credentials_known = spec_bool(patch, "credentials", l->credentials_known);
    l->demographics_known = spec_bool(patch, "demographics", l->demographics_known);
    l->license_known = spec_bool(patch, "license_manager", l->license_known);
    const cJSON *pb = cJSON_GetObjectItemCaseSensitive(patch, "proctoring_backends");
    if (pb) {
        cJSON_Delete(l->proctoring_backends);
        l->proctoring_backends = cJSON_IsObject(pb) ? cJSON_Duplicate(pb, 1) : NULL;
    }
    return 0;
}

int store_load_seed_file(sim_server *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open seed file %s: %s", path, strerror(errno));
        return -1;
    }
    strbuf b = {0};
    char buf[65536];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0) sb_addn(&b, buf, r);
    fclose(f);
    cJSON *doc = cJSON_Parse(b.data ? b.data : "");
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && b.data && at >= b.data ? (size_t)(at - b.data) : 0;
        int line = 1;
        for (size_t i = 0; i < off && b.data; i++) line += b.data[i] == '\n';
        snprintf(err, errlen, "seed file %s: invalid JSON near line %d", path, line);
        free(b.data);
        return -1;
    }
    free(b.data);
    cJSON *list = doc;
    if (cJSON_IsObject(doc)) {
        const char *salt = json_str(doc, "salt");
        if (salt) {
            free(s->salt);
            s->salt = xstrdup(salt);
        }
        list = cJSON_GetObjectItemCaseSensitive(doc, "learners");
    }
    if (!cJSON_IsArray(list)) {
        snprintf(err, errlen, "seed file %s: expected a JSON array of learners or {\"learners\": [...]}", path);
        cJSON_Delete(doc);
        return -1;
    }
    if (!s->seed_specs) s->seed_specs = cJSON_CreateArray();
    cJSON *c;
    cJSON_ArrayForEach(c, list) cJSON_AddItemToArray(s->seed_specs, cJSON_Duplicate(c, 1));
    cJSON_Delete(doc);
    return 0;
}

/* Picks a state for a demo learner: the named one, or one of the same kind when the table lacks it. */
static const char *demo_state(const sim_server *s, const char *want)
{
    if (store_state_index(s, want) >= 0) return want;
    int complete = strstr(want, "_COMPLETE") != NULL;
    for (int i = 1; i < s->n_states - 3; i++) {
        int c = strstr(s->states[i].name, "_COMPLETE") != NULL;
        if (c == complete) return s->states[i].name;
    }
    return "PENDING";
}

/* The --demo learners: a small friendly set covering every situation the console shows. */
static int add_demo_locked(sim_server *s, int64_t now, char *err, size_t errlen)
{
    static const struct {
        const char *username, *name, *state, *last /* history path */, *responses /* error text */;
        double days;
        const char *orgs;
    } demo[] = {
        {"alice_pending", "Alice Martin", "PENDING", NULL, NULL, 2, "edX,MITx"},
        {"bob.cooloff", "Bob Chen", "PENDING", NULL, NULL, 5.5, "HarvardX"},
        {"carol_ready", "Carol Okafor", "PENDING", NULL, NULL, 12, "edX,MITx"},
        {"dana ready", "Dana Lee", "PENDING", NULL, NULL, 30, "DelftX"},
        {"jose_nunez", "José Ñúñez Müller", "PENDING", NULL, NULL, 9, "edX"},
        {"zhang_wei", "张伟", "PENDING", NULL, NULL, 14, ""},
        {"erin_forums_done", "Erin Walsh", "FORUMS_COMPLETE", "PENDING,RETIRING_FORUMS", NULL, 15, "MITx"},
        {"frank_enrolled", "Frank Rossi", "ENROLLMENTS_COMPLETE", NULL, NULL, 20, "edX"},
        {"grace_errored", "Grace Hopper", "ERRORED", "PENDING,RETIRING_FORUMS",
         "500 Server Error: Internal Server Error for url: /api/discussion/v1/accounts/retire_forum/ "
         "(forum service unavailable)",
         18, "edX"},
        {"heidi_errored", "Heidi Schmidt", "ERRORED",
         "PENDING,RETIRING_FORUMS,FORUMS_COMPLETE,RETIRING_EMAIL_LISTS,EMAIL_LISTS_COMPLETE,RETIRING_ENROLLMENTS",
         "504 Server Error: Gateway Time-out for url: /api/enrollment/v1/unenroll/", 25, "MITx,HarvardX"},
        {"ivan_stuck", "Ivan Petrov", "RETIRING_LMS", "PENDING,RETIRING_FORUMS,FORUMS_COMPLETE,RETIRING_EMAIL_LISTS,EMAIL_LISTS_COMPLETE,RETIRING_ENROLLMENTS,ENROLLMENTS_COMPLETE", NULL, 11, "edX"},
        {"judy_stuck", "Judy Alvarez", "RETIRING_EMAIL_LISTS", "PENDING,RETIRING_FORUMS,FORUMS_COMPLETE", NULL, 16, ""},
        {"ken_done", "", "COMPLETE", "PENDING,RETIRING_FORUMS,FORUMS_COMPLETE,RETIRING_EMAIL_LISTS,EMAIL_LISTS_COMPLETE,RETIRING_ENROLLMENTS,ENROLLMENTS_COMPLETE,RETIRING_LMS,LMS_COMPLETE", NULL, 40, "edX"},
        {"lena_done", "", "COMPLETE", NULL, NULL, 45, ""},
        {"mallory_aborted", "Mallory Stone", "ABORTED", NULL, NULL, 8, ""},
        {"olivia_lms_done", "Olivia Brown", "LMS_COMPLETE", NULL, NULL, 21, "DelftX"},
        {"niaj_active", "Niaj Kumar", NULL, NULL, NULL, 3, "edX"},
    };
    for (size_t i = 0; i < sizeof demo / sizeof demo[0]; i++) {
        cJSON *spec = cJSON_CreateObject();
        cJSON_AddStringToObject(spec, "username", demo[i].username);
        cJSON_AddStringToObject(spec, "name", demo[i].name);
        if (demo[i].state) cJSON_AddStringToObject(spec, "state", demo_state(s, demo[i].state));
        else cJSON_AddNullToObject(spec, "state");
        if (demo[i].last) { /* the path the driver took, ending in the current state */
            cJSON *h = cJSON_AddArrayToObject(spec, "history");
            char path[256];
            snprintf(path, sizeof path, "%s", demo[i].last);
            char *save2 = NULL;
            for (char *t = strtok_r(path, ",", &save2); t; t = strtok_r(NULL, ",", &save2))
                if (store_state_index(s, t) >= 0) cJSON_AddItemToArray(h, cJSON_CreateString(t));
            cJSON_AddItemToArray(h, cJSON_CreateString(demo_state(s, demo[i].state)));
        }
        if (demo[i].responses) cJSON_AddStringToObject(spec, "error", demo[i].responses);
        cJSON_AddNumberToObject(spec, "days_ago", demo[i].days);
        cJSON *orgs = cJSON_AddArrayToObject(spec, "orgs");
        char buf[128];
        snprintf(buf, sizeof buf, "%s", demo[i].orgs);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
            cJSON_AddItemToArray(orgs, cJSON_CreateString(t));
        if (i % 3 == 0) cJSON_AddTrueToObject(spec, "license_manager");
        if (i % 4 == 1) cJSON_AddFalseToObject(spec, "ecommerce");
        if (i == 2) cJSON_AddTrueToObject(spec, "demographics");
        sim_learner *l = store_add_spec_locked(s, spec, now, err, errlen);
        cJSON_Delete(spec);
        if (!l) return -1;
    }
    return 0;
}

/* xorshift64* PRNG for deterministic generated learners. */
static uint64_t rng_next(uint64_t *st)
{
    uint64_t x = *st;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *st = x;
    return x * 2685821657736338717ULL;
}

/* Adds s->gen_count generated learners spread over states and creation dates. */
static int add_generated_locked(sim_server *s, int64_t now, char *err, size_t errlen)
{
    uint64_t st = s->random_seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL;
    if (!st) st = 88172645463325252ULL;
    static const char *const orgs[] = {"edX", "MITx", "HarvardX", "DelftX", "BerkeleyX"};
    int nwork = 0, ncomp = 0, work[512], comp[512];
    for (int i = 1; i < s->n_states - 3 && i < 512; i++) {
        if (strstr(s->states[i].name, "_COMPLETE") || s->states[i].name[0] == '\0') comp[ncomp++] = i;
        else work[nwork++] = i;
    }
    for (long k = 1; k <= s->gen_count; k++) {
        uint64_t r = rng_next(&st) % 100;
        int idx;
        if (r < 45 || (!ncomp && r < 70) || (!nwork && r >= 70 && r < 78)) idx = 0;
        else if (r < 70) idx = comp[rng_next(&st) % (uint64_t)ncomp];
        else if (r < 78) idx = work[rng_next(&st) % (uint64_t)nwork];
        else if (r < 86) idx = s->n_states - 3;
        else if (r < 90) idx = s->n_states - 2;
        else idx = s->n_states - 1;
        char user[64], name[64];
        snprintf(user, sizeof user, "learner%06ld", k);
        snprintf(name, sizeof name, "Learner %ld", k);
        cJSON *spec = cJSON_CreateObject();
        cJSON_AddStringToObject(spec, "username", user);
        cJSON_AddStringToObject(spec, "name", name);
        cJSON_AddStringToObject(spec, "state", s->states[idx].name);
        /* created 0..30 days ago, to the microsecond, so cool-off filters matter */
        double days = (double)(rng_next(&st) % 30000000ULL) / 1e6;
        cJSON_AddNumberToObject(spec, "days_ago", days);
        cJSON *o = cJSON_AddArrayToObject(spec, "orgs");
        int norgs = (int)(rng_next(&st) % 4);
        for (int j = 0; j < norgs; j++) {
            const char *org = orgs[(k + j) % 5];
            cJSON_AddItemToArray(o, cJSON_CreateString(org));
        }
        if (rng_next(&st) % 4 == 0) cJSON_AddTrueToObject(spec, "license_manager");
        if (rng_next(&st) % 5 == 0) cJSON_AddFalseToObject(spec, "ecommerce");
        sim_learner *l = store_add_spec_locked(s, spec, now, err, errlen);
        cJSON_Delete(spec);
        if (!l) return -1;
    }
    return 0;
}

int store_rebuild_locked(sim_server *s, char *err, size_t errlen)
{
    store_free_learners_locked(s);
    s->renamed = 0;
    s->next_rid = 1;
    s->next_partner_id = 1;
    int64_t now = clk_wall_us();
    if (s->demo && add_demo_locked(s, now, err, errlen)) return -1;
    if (s->seed_specs) {
        cJSON *c;
        int i = 0;
        cJSON_ArrayForEach(c, s->seed_specs) {
            char sub[400];
            i++;
            if (!store_add_spec_locked(s, c, now, sub, sizeof sub)) {
                snprintf(err, errlen, "seed learner %d: %s", i, sub);
                return -1;
            }
        }
    }
    if (s->gen_count > 0 && add_generated_locked(s, now, err, errlen)) return -1;
    return 0;
}

/* ---- JSON ---- */

static cJSON *state_json(const sim_server *s, int idx)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", s->states[idx].id);
    cJSON_AddStringToObject(o, "state_name", s->states[idx].name);
    cJSON_AddNumberToObject(o, "state_execution_order", s->states[idx].order);
    return o;
}

cJSON *store_status_json_locked(const sim_server *s, const sim_learner *l)
{
    char ts[40];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)l->rid);
    cJSON *u = cJSON_AddObjectToObject(o, "user");
    cJSON_AddNumberToObject(u, "id", (double)l->user_id);
    cJSON_AddStringToObject(u, "username", l->username);
    cJSON_AddStringToObject(u, "email", l->email);
    cJSON *p = cJSON_AddObjectToObject(u, "profile");
    cJSON_AddNumberToObject(p, "id", (double)l->profile_id);
    cJSON_AddStringToObject(p, "name", l->profile_name);
    cJSON_AddItemToObject(o, "current_state", state_json(s, l->cur));
    cJSON_AddItemToObject(o, "last_state", state_json(s, l->last));
    sim_fmt_iso(l->created_us, ts);
    cJSON_AddStringToObject(o, "created", ts);
    sim_fmt_iso(l->modified_us, ts);
    cJSON_AddStringToObject(o, "modified", ts);
    cJSON_AddStringToObject(o, "original_username", l->orig_username);
    cJSON_AddStringToObject(o, "original_email", l->orig_email);
    cJSON_AddStringToObject(o, "original_name", l->orig_name);
    cJSON_AddStringToObject(o, "retired_username", l->retired_username);
    cJSON_AddStringToObject(o, "retired_email", l->retired_email);
    return o;
}

cJSON *store_dump_json_locked(const sim_server *s, const sim_learner *l)
{
    cJSON *o;
    if (l->has_row) {
        o = store_status_json_locked(s, l);
        cJSON_AddStringToObject(o, "responses", l->responses.data ? l->responses.data : "");
    } else {
        o = cJSON_CreateObject();
        cJSON_AddNullToObject(o, "id");
        cJSON *u = cJSON_AddObjectToObject(o, "user");
        cJSON_AddNumberToObject(u, "id", (double)l->user_id);
        cJSON_AddStringToObject(u, "username", l->username);
        cJSON_AddStringToObject(u, "email", l->email);
        cJSON *p = cJSON_AddObjectToObject(u, "profile");
        cJSON_AddNumberToObject(p, "id", (double)l->profile_id);
        cJSON_AddStringToObject(p, "name", l->profile_name);
        cJSON_AddStringToObject(o, "original_username", l->orig_username);
    }
    cJSON_AddBoolToObject(o, "has_retirement", l->has_row);
    cJSON_AddBoolToObject(o, "is_active", l->is_active);
    cJSON_AddItemToObject(o, "orgs", cJSON_Duplicate(l->orgs, 1));
    cJSON_AddBoolToObject(o, "enrollments_active", l->enrollments_active);
    if (l->partner_row) {
        char ts[40];
        cJSON *pr = cJSON_AddObjectToObject(o, "partner_report");
        cJSON_AddNumberToObject(pr, "id", (double)l->partner_id);
        cJSON_AddBoolToObject(pr, "is_being_processed", l->partner_processing);
        sim_fmt_iso(l->partner_created_us, ts);
        cJSON_AddStringToObject(pr, "created", ts);
    } else {
        cJSON_AddNullToObject(o, "partner_report");
    }
    cJSON *svc = cJSON_AddObjectToObject(o, "services");
    cJSON_AddBoolToObject(svc, "forum_known", l->forum_known);
    cJSON_AddBoolToObject(svc, "notes_ok", l->notes_ok);
    cJSON_AddBoolToObject(svc, "ecommerce_known", l->ecommerce_known);
    cJSON_AddNumberToObject(svc, "ecommerce_id", (double)l->ecommerce_id);
    cJSON_AddBoolToObject(svc, "credentials_known", l->credentials_known);
    cJSON_AddBoolToObject(svc, "demographics_known", l->demographics_known);
    cJSON_AddBoolToObject(svc, "license_manager_known", l->license_known);
    if (l->proctoring_backends) cJSON_AddItemToObject(svc, "proctoring_backends", cJSON_Duplicate(l->proctoring_backends, 1));
    cJSON *done = cJSON_AddObjectToObject(o, "retired_in");
    cJSON_AddNumberToObject(done, "forum", l->forum_retired);
    cJSON_AddNumberToObject(done, "mailings", l->mailings_retired);
    cJSON_AddNumberToObject(done, "notes", l->notes_retired);
    cJSON_AddNumberToObject(done, "lms_misc", l->misc_retired);
    cJSON_AddNumberToObject(done, "lms", l->lms_retired);
    cJSON_AddNumberToObject(done, "ecommerce", l->ecommerce_retired);
    cJSON_AddNumberToObject(done, "credentials", l->credentials_retired);
    cJSON_AddNumberToObject(done, "demographics", l->demographics_retired);
    cJSON_AddNumberToObject(done, "license_manager", l->license_retired);
    cJSON_AddNumberToObject(done, "proctoring", l->proctoring_retired);
    return o;
}

cJSON *store_states_json_locked(const sim_server *s)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < s->n_states; i++) {
        cJSON *o = state_json(s, i);
        cJSON_AddBoolToObject(o, "is_dead_end_state", s->states[i].dead_end);
        cJSON_AddBoolToObject(o, "required", s->states[i].required);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}
