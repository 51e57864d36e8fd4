/* reg (prefix reg_): the driver registry. Knows every driver by name: the built-ins of
 * src/drivers, one generic-driver entry per `extra_services` item, and the plugins named in
 * entry-point files (searched in the order of docs/architecture.md §4). Plugins are dlopen()ed lazily,
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
    const char *kind;          /* "built-in", "extra_services" (generic driver under that name) or "plugin" */
    unsigned abi_version;      /* the descriptor's abi_version once read, also when it was refused for
                                  it (e.g. 99 for a plugin built for another ABI); 0 = not read */
} reg_driver_info;

/* A registry with the built-ins and extra_services of config (may be NULL) and entry-point
 * files from: the install's plugins/retirement_driver.cfg (paths_plugin_dir: the build tree's when the
 * running program lies in the build tree; absent is fine), the drop-in directories
 * <libdir>/retirectl/drivers.d, <sysconfdir>/retirectl/drivers.d and
 * $XDG_CONFIG_HOME/retirectl/drivers.d (*.cfg, in name order; reg.c
 * parse_installed_entry_points has the one list), the config's
 * `driver_entry_points:` list, extra_files (--driver-path, NULL-terminated, may be NULL) and
 * $RETIRECTL_DRIVER_PATH (colon-separated). Never fails: problems are recorded. A name
 * defined twice (including a plugin or extra service named like a built-in) keeps its first
 * definition but is marked with a load error naming both places: fatal only when used.
 * Nothing is dlopen()ed here. The registry copies what it needs from config. */
reg *reg_new(const cfg *config, const char *const *extra_files);
void reg_free(reg *r);

/* Loads (if needed) and returns the driver called name; NULL with a sentence naming the
 * entry-point file and line, the .so and what to do in err. */
const rd_driver *reg_load(reg *r, const char *name, char *err, size_t err_len);
/* Loads the driver called name and calls its get_instance(config, host, ...). Returns the
 * instance (release it with (*driver_out)->destroy when that is non-NULL) and sets *driver_out,
 * or NULL with a sentence in err: the load error, or "driver X (file:line, .so) could not start:
 * <the driver's reason>". The caller builds host (with host->driver_name = name) and keeps it
 * and config alive as long as the instance. err may receive text from the plugin: scrub it
 * (cfg_redact) before printing. Call it only where a crash may happen: in a job worker. */
void *reg_instantiate(reg *r, const char *name, const cJSON *config, const rd_host *host,
                      const rd_driver **driver_out, char *err, size_t err_len);
/* The info of the driver called name (loaded or not), or NULL when no driver has that name. */
const reg_driver_info *reg_find(const reg *r, const char *name);
/* The method called name of a loaded driver, or NULL. */
const rd_method *reg_method(const rd_driver *d, const char *name);
/* Entry i of a checked driver's method table (stepping by the entries' struct_size), or NULL
 * at the terminating entry: iterate with for (i = 0; (m = reg_method_at(d, i)); i++). */
const rd_method *reg_method_at(const rd_driver *d, size_t i);

/* reg_check_pipeline and reg_load_all first load each plugin once in a child process, so a
 * plugin whose initialisation code crashes, exits or hangs becomes a load error instead of
 * ending the calling process; reg_load (used in job workers) does not. */
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
/* The entry-point files that were read, in search order (real paths). */
size_t reg_searched_count(const reg *r);
const char *reg_searched(const reg *r, size_t i);

#endif
