/* Built-in drivers, written against the plugin ABI (include/retirectl/driver.h). */
#ifndef RETIRECTL_DRIVERS_BUILTIN_H
#define RETIRECTL_DRIVERS_BUILTIN_H

#include "retirectl/driver.h"

extern const rd_driver rd_builtin_lms;             /* LMS: docs/lms-api.md §5.5-§5.17 */
extern const rd_driver rd_builtin_ecommerce;       /* ECOMMERCE: retire_learner, get_tracking_key */
extern const rd_driver rd_builtin_credentials;     /* CREDENTIALS: retire_learner */
extern const rd_driver rd_builtin_demographics;    /* DEMOGRAPHICS: retire_learner (404 = success) */
extern const rd_driver rd_builtin_license_manager; /* LICENSE_MANAGER: retire_learner (404 = success) */
extern const rd_driver rd_builtin_generic;         /* extra_services entries: retire_learner */

/* NULL-terminated list of the named built-ins (generic excluded: it is registered once per
 * extra_services item under that item's name). */
const rd_driver *const *drivers_builtin_list(void);

#endif
