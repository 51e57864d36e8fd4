/* reg (prefix reg_): the driver registry. Knows every driver by name: the built-ins of
 * src/drivers, one generic-driver entry per `extra_services` item, and the plugins named in
 * entry-point files (searched in the order of DESIGN.md §3.2). Plugins are dlopen()ed lazily,
 * only when a command needs them; every problem is kept with its file and line and reported
 * only for drivers the caller asks for (or by `retirectl drivers`). */
#ifndef RETIRECTL_REG_H
#define RETIRECTL_REG_H

#include <stddef.h>
#include "engine/config.h"
#include "retirectl/driver.h"

typedef struct reg reg;

typedef struct reg_driver_info {
    const char *name;          /* pipeline name */
    int builtin;               /* 1 for src/drivers ones */
    const char *source;        /* entry-point file, or "built-in" */
    int line;                  /* line in source, 0 for built-ins */
    const char *file;          /* .so path, NULL for built-ins */
    const char *symbol;        /* exported symbol, NULL for built-ins */
    const rd_driver *driver;   /* descriptor once loaded (always for built-ins), else NULL */
    const char *load_error;    /* first problem with this driver, or NULL */
} reg_driver_info;

/* A registry with the built-ins and extra_services of config (may be NULL) and entry-point
 * files from: the install's plugins/retirement_driver.cfg (and the build tree's), the config's
 * `driver_entry_points:` list, extra_files (--driver-path, NULL-terminated, may be NULL) and
 * $RETIRECTL_DRIVER_PATH (colon-separated). Never fails: problems are recorded. */
reg *reg_new(const cfg *config, const char *const *extra_files);
void reg_free(reg *r);

/* Loads (if needed) and returns the driver called name; NULL with a sentence naming the
 * entry-point file and line, the .so and what to do in err. */
const rd_driver *reg_load(reg *r, const char *name, char *err, size_t err_len);
/* The method called name of a loaded driver, or NULL. */
const rd_method *reg_method(const rd_driver *d, const char *name);

/* Loads every driver the config's pipeline uses and checks each named method exists.
 * Returns the number of problems; each is appended as one line to err. */
int reg_check_pipeline(reg *r, const cfg *config, char *err, size_t err_len);

/* Enumeration for `retirectl drivers` and the console. load_all: try loading every plugin
 * first so versions, methods and load errors are known. */
void reg_load_all(reg *r);
size_t reg_count(const reg *r);
const reg_driver_info *reg_info(const reg *r, size_t i);
/* Problems not tied to one driver (entry-point syntax errors, unreadable files), one per line. */
size_t reg_problem_count(const reg *r);
const char *reg_problem(const reg *r, size_t i);

#endif
