/* coredump: see coredump.h. */
#include "engine/coredump.h"

#include <sys/prctl.h>
#include <sys/resource.h>

int coredump_disable(void)
{
    struct rlimit none = {0, 0};
    int rc = setrlimit(RLIMIT_CORE, &none);
    /* not dumpable: no core even where a core handler ignores the limit (e.g. a pipe in
     * core_pattern), and other processes of the same user cannot read this one's memory */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) rc = -1;
    return rc;
}
