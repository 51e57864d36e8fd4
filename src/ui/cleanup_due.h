/* ui cleanup due (prefix ui_cleanup_): which completed retirements `retirectl cleanup` would
 * archive and delete now (docs/operators.md, "cleanup"), for the status bar count and the
 * Complete tab's mark. No curses here. */
#ifndef RETIRECTL_UI_CLEANUP_DUE_H
#define RETIRECTL_UI_CLEANUP_DUE_H

#include <stddef.h>
#include <time.h>

#include "ui/model.h"

/* `retirectl cleanup`'s default --cool-off-days (upstream's 37). */
#define UI_CLEANUP_COOL_OFF_DAYS 37

/* Non-zero when l is COMPLETE and was requested on or before the last day of cleanup's default
 * window: the UTC day of (now - cool_off_days days), inclusive, as the LMS counts days. */
int ui_cleanup_due(const ui_store *s, const ui_learner *l, long cool_off_days, time_t now);
/* How many learners of the store are due (whatever tab they are in, or none). */
size_t ui_cleanup_due_count(const ui_store *s, long cool_off_days, time_t now);

#endif
