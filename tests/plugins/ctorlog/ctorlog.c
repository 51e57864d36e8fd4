/* Test plugin "ctorlog": its ELF constructor appends "<pid> <parent pid>\n" to the file named
 * by $RETIRECTL_TEST_CTOR_LOG, so a test can tell which processes ran plugin code: never the
 * retirectl process the test started (drivers, check-config, plan, the console). */
#include <stdio.h>
#include <unistd.h>

#include "../testplugin.h"

__attribute__((constructor)) static void ctorlog_init(void)
{
    const char *path = getenv("RETIRECTL_TEST_CTOR_LOG");
    if (!path || !*path) return;
    FILE *f = fopen(path, "a");
    if (!f) return;
    fprintf(f, "%ld %ld\n", (long)getpid(), (long)getppid());
    fclose(f);
}

static rd_status ctorlog_retire(void *inst, const cJSON *learner, rd_call *call)
{
    return tp_ok(inst, learner, call, "retire");
}

static const rd_method ctorlog_methods[] = {RD_METHOD("retire", ctorlog_retire, NULL), RD_METHODS_END};

RD_EXPORT const rd_driver retirectl_driver_ctorlog =
    RD_DRIVER_INIT("CTORLOG", "0.0.1", "logs which process loads it", tp_get_instance, tp_destroy, ctorlog_methods);
