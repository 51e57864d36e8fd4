/* check-config's driver checks that go beyond loading: every entry-point file problem that
 * `retirectl drivers` lists, and an instance of every pipeline driver built as a run would
 * build it (get_instance with the whole config), each in its own child process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/common.h"
#include "engine/host.h"
#include "engine/http.h"
#include "engine/isolate.h"
#include "engine/reg.h"

/* Seconds one get_instance may take before check-config reports it as hanging. */
#define INSTANCE_TIMEOUT_MS 20000

int cli_entry_point_problems(const cfg *c, const cli_globals *g, strbuf *out)
{
    reg *r = reg_new(c, g ? g->driver_paths : NULL); /* parses entry-point files only: nothing is loaded */
    int n = 0;
    for (size_t i = 0; i < reg_problem_count(r); i++, n++) sb_addf(out, "%s\n", reg_problem(r, i));
    for (size_t i = 0; i < reg_count(r); i++) {
        const reg_driver_info *d = reg_info(r, i);
        if (!d->load_error) continue; /* set before any load: a syntax error or a duplicate name */
        sb_addf(out, "%s\n", d->load_error);
        n++;
    }
    reg_free(r);
    return n;
}

/* What one instance check needs. */
typedef struct instance_job {
    const cfg *c;
    const cli_globals *g;
    const char *name;
} instance_job;

/* Runs in a child: loads one driver and builds its instance. Exit 0 built, 1 refused (the
 * sentence in out), 2 not checked (the driver does not load: the pipeline check says why). */
static int instance_child(void *arg, strbuf *out)
{
    const instance_job *jb = arg;
    char err[4096] = "";
    reg *r = reg_new(jb->c, jb->g ? jb->g->driver_paths : NULL);
    if (!reg_load(r, jb->name, err, sizeof err)) return 2;
    http_client *http = http_client_new(jb->c, err, sizeof err);
    if (!http) return 2; /* the LMS client check reports this */
    rd_host *host = host_new(jb->c, http, jb->name, NULL, NULL, NULL, NULL);
    const rd_driver *d = NULL;
    err[0] = '\0';
    void *inst = reg_instantiate(r, jb->name, jb->c->root, host, &d, err, sizeof err);
    if (!inst) {
        sb_add(out, err);
        return 1;
    }
    if (d && d->destroy) d->destroy(inst);
    host_free(host);
    http_client_free(http);
    reg_free(r);
    sb_add(out, "built");
    return 0;
}

int cli_check_driver_instances(const cfg *c, const cli_globals *g, strbuf *out)
{
    reg *r = reg_new(c, g ? g->driver_paths : NULL); /* only to name where each driver comes from */
    int n = 0;
    for (size_t i = 0; c && i < c->n_steps; i++) {
        const char *name = c->steps[i].driver;
        int seen = 0;
        for (size_t j = 0; j < i; j++) seen |= strcmp(c->steps[j].driver, name) == 0;
        if (seen) continue;
        instance_job jb = {c, g, name};
        strbuf text = STRBUF_INIT;
        iso_result res;
        iso_run(instance_child, &jb, INSTANCE_TIMEOUT_MS, &text, &res);
        const reg_driver_info *d = reg_find(r, name);
        if (res.exited && res.status == 1) {
            sb_addf(out, "%s\n", sb_str(&text));
            n++;
        } else if (!res.exited || (res.status == 0 && strcmp(sb_str(&text), "built") != 0)) {
            char where[2048];
            if (d && d->line)
                snprintf(where, sizeof where, "%s:%d, %s", d->source, d->line, d->file ? d->file : "");
            else
                snprintf(where, sizeof where, "%s", d ? d->source : "?");
            sb_addf(out,
                    "driver %s (%s): get_instance %s while check-config built its instance; a run would fail "
                    "the same way before changing any state: fix the driver or its settings\n",
                    name, where, res.why[0] ? res.why : "exited with status 0 without returning");
            n++;
        }
        sb_free(&text);
    }
    reg_free(r);
    return n;
}
