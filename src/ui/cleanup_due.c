/* ui cleanup due: COMPLETE learners past cleanup's cool-off window (see cleanup_due.h). */
#include "ui/cleanup_due.h"

#include <string.h>

/* First second after cleanup's window: midnight UTC after the day of now - cool_off_days. */
static int64_t window_end(long cool_off_days, time_t now)
{
    int64_t last = (int64_t)now - (int64_t)cool_off_days * 86400;
    int64_t day = last >= 0 ? last / 86400 : (last - 86399) / 86400;
    return (day + 1) * 86400;
}

int ui_cleanup_due(const ui_store *s, const ui_learner *l, long cool_off_days, time_t now)
{
    return l->created > 0 && l->created < window_end(cool_off_days, now) &&
           strcmp(ui_store_state(s, l->state), "COMPLETE") == 0;
}

size_t ui_cleanup_due_count(const ui_store *s, long cool_off_days, time_t now)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) n += (size_t)ui_cleanup_due(s, &s->v[i], cool_off_days, now);
    return n;
}
