/* reg: the driver registry (see reg.h). */
#include "engine/reg.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drivers/builtin.h"
#include "engine/ep.h"
#include "engine/paths.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

enum item_kind { KIND_BUILTIN, KIND_EXTRA, KIND_PLUGIN, KIND_BROKEN };

typedef struct reg_item {
    reg_driver_info info; /* what reg_info hands out; its strings point into the fields below */
    enum item_kind kind;
    char *name;
    char *source;
    char *file;
    char *symbol;
    char *load_error;     /* first problem, owned */
    int load_tried;
    void *handle;         /* dlopen handle of a loaded plugin */
    int fd_plus1;         /* 1 + the descriptor it was loaded from, kept open while loaded: glibc knows
                             the object by the name /proc/self/fd/N, which must not be reused */
} reg_item;

struct reg {
    reg_item *items;
    size_t n_items;
    char **problems;      /* problems not tied to one driver */
    size_t n_problems;
    char **searched;      /* entry-point files parsed, in search order */
    size_t n_searched;
    char *config_path;
};

/* Appends a problem not tied to one driver. */
static void add_problem(reg *r, const char *msg)
{
    char **p = xrealloc(r->problems, (r->n_problems + 1) * sizeof *p);
    r->problems = p;
    r->problems[r->n_problems++] = xstrdup(msg);
}

/* Refreshes the public info of an item from its fields. */
static void sync_info(reg_item *it)
{
    it->info.name = it->name;
    it->info.builtin = it->kind == KIND_BUILTIN || it->kind == KIND_EXTRA;
    it->info.source = it->source;
    it->info.file = it->file;
    it->info.symbol = it->symbol;
    it->info.load_error = it->load_error;
    switch (it->kind) {
    case KIND_BUILTIN: it->info.kind = "built-in"; break;
    case KIND_EXTRA: it->info.kind = "extra_services"; break;
    default: it->info.kind = "plugin"; break;
    }
}

/* Records the first problem of an item (later ones are dropped: one clear sentence is enough). */
static void set_error(reg_item *it, const char *msg)
{
    if (!it->load_error) it->load_error = xstrdup(msg);
    sync_info(it);
}

static reg_item *find_item(const reg *r, const char *name)
{
    for (size_t i = 0; i < r->n_items; i++)
        if (strcmp(r->items[i].name, name) == 0) return &r->items[i];
    return NULL;
}

/* Adds an item; returns it (the items array may move: do not keep earlier pointers). */
static reg_item *add_item(reg *r, enum item_kind kind, const char *name, const char *source, int line)
{
    reg_item *items = xrealloc(r->items, (r->n_items + 1) * sizeof *items);
    r->items = items;
    reg_item *it = &items[r->n_items++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->name = xstrdup(name);
    it->source = xstrdup(source);
    it->info.line = line;
    sync_info(it);
    return it;
}

/* Where an item was defined, for messages: "built in", "extra_services of F", "F:L" (malloc'd). */
static char *describe_origin(const reg_item *it)
{
    if (it->kind == KIND_BUILTIN) return xstrdup("built in");
    if (it->kind == KIND_EXTRA) return sb_fmt("extra_services of %s", it->source);
    return sb_fmt("%s:%d", it->source, it->info.line);
}

/* Records an error built printf-style (see set_error). */
static void set_errorf(reg_item *it, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_errorf(reg_item *it, const char *fmt, ...)
{
    strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    set_error(it, sb_str(&sb));
    sb_free(&sb);
}

/* Returns the install's (or the build tree's) entry-point file path (malloc'd), or NULL when the
 * program's folder is unknown (see paths.h). */
static char *system_entry_point_file(void)
{
    char *dir = paths_plugin_dir();
    if (!dir) return NULL;
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%s/retirement_driver.cfg", dir);
    free(dir);
    return sb_take(&sb);
}

/* Parses one entry-point file into eps unless the same file (by real path) was parsed already. */
static void parse_once(reg *r, ep_list *eps, const char *path)
{
    char real[PATH_MAX];
    const char *key = realpath(path, real) ? real : path;
    for (size_t i = 0; i < r->n_searched; i++)
        if (strcmp(r->searched[i], key) == 0) return;
    char **s = xrealloc(r->searched, (r->n_searched + 1) * sizeof *s);
    r->searched = s;
    r->searched[r->n_searched++] = xstrdup(key);
    ep_parse_file(eps, key); /* the real path: messages name the file unambiguously */
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Parses every *.cfg file of a drop-in directory, in name order (absent is fine). */
static void parse_dropin_dir(reg *r, ep_list *eps, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 4, ".cfg") != 0) continue;
        names = xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = sb_fmt("%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        parse_once(r, eps, names[i]);
        free(names[i]);
    }
    free(names);
}

/* The entry-point files every command reads before the config's own, in this order (documented
 * in docs/writing-a-driver.md, "Where retirectl looks for drivers"):
 *   1. the shipped plugins' file: <libdir>/retirectl/plugins/retirement_driver.cfg (the build
 *      tree's plugins/retirement_driver.cfg when the program runs from the build tree);
 *   2. <libdir>/retirectl/drivers.d/NAME.cfg: one file per driver package (a .deb installs here);
 *   3. <sysconfdir>/retirectl/drivers.d/NAME.cfg (/etc/retirectl/drivers.d for a /usr install):
 *      the administrator's;
 *   4. $XDG_CONFIG_HOME/retirectl/drivers.d/NAME.cfg (~/.config when unset): the user's.
 * Drop-in files are read in name order; 2 and 3 are skipped when running from the build tree.
 * A copy installed elsewhere (`cmake --install build --prefix P`, run as P/bin/retirectl) reads
 * 1-3 under P (paths.h finds them from the program's own folder).
 * Then come the config's driver_entry_points, --driver-path and $RETIRECTL_DRIVER_PATH (reg_new).
 * A name defined in two places is an error naming both, never an override. */
static void parse_installed_entry_points(reg *r, ep_list *eps)
{
    char *sys = system_entry_point_file();
    struct stat st;
    if (sys && stat(sys, &st) == 0) parse_once(r, eps, sys); /* absent when nothing is installed: fine */
    free(sys);
    char *build = paths_build_root();
    if (!build) { /* the build tree has no drop-in folders (paths.h) */
        char *libdir = paths_lib_dir(), *etcdir = paths_sysconf_dir();
        char *lib = libdir ? sb_fmt("%s/drivers.d", libdir) : NULL;
        char *etc = etcdir ? sb_fmt("%s/drivers.d", etcdir) : NULL;
        if (lib) parse_dropin_dir(r, eps, lib);
        if (etc) parse_dropin_dir(r, eps, etc);
        free(lib);
        free(etc);
        free(libdir);
        free(etcdir);
    }
    free(build);
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    char *user = xdg && *xdg ? sb_fmt("%s/retirectl/drivers.d", xdg)
                 : home && *home ? sb_fmt("%s/.config/retirectl/drivers.d", home)
                                 : NULL;
    if (user) parse_dropin_dir(r, eps, user);
    free(user);
}

/* A file named in the config's driver_entry_points (node): parsed like the others, but a
 * missing one is reported at the config's file:line. */
static void parse_config_listed(reg *r, ep_list *eps, const cfg *config, const cJSON *node, const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        parse_once(r, eps, path);
        return;
    }
    int line = cfg_node_line(config, node, NULL);
    const char *cpath = r->config_path ? r->config_path : "the config";
    char *where = line > 0 ? sb_fmt("%s:%d", cpath, line) : sb_fmt("%s", cpath);
    char *msg = sb_fmt("%s: driver_entry_points names %s, which cannot be read (%s); fix the path (relative "
                          "to the config file) or remove the item",
                          where, path, strerror(errno));
    add_problem(r, msg);
    free(msg);
    free(where);
}

/* Resolves p relative to the folder of the config file (absolute paths stay). malloc'd. */
static char *relative_to_config(const char *config_path, const char *p)
{
    strbuf sb = STRBUF_INIT;
    const char *slash = config_path ? strrchr(config_path, '/') : NULL;
    if (p[0] == '/' || !slash)
        sb_add(&sb, p);
    else
        sb_addf(&sb, "%.*s/%s", (int)(slash - config_path), config_path, p);
    return sb_take(&sb);
}

/* Registers the entries and named problems of the entry-point files. */
static void register_entry_points(reg *r, const ep_list *eps)
{
    for (size_t i = 0; i < eps->n_entries; i++) {
        const ep_entry *e = &eps->entries[i];
        reg_item *prev = find_item(r, e->name);
        if (prev) {
            /* a plugin may not shadow a built-in or an extra service */
            char *origin = describe_origin(prev);
            set_errorf(prev,
                       "driver %s is defined twice: %s and %s:%d (%s:%s); rename the plugin's entry (a plugin "
                       "may not silently replace a %s driver)",
                       e->name, origin, e->source, e->line, e->file, e->symbol,
                       prev->kind == KIND_EXTRA ? "extra_services" : "built-in");
            free(origin);
            continue;
        }
        reg_item *it = add_item(r, KIND_PLUGIN, e->name, e->source, e->line);
        it->file = xstrdup(e->file);
        it->symbol = xstrdup(e->symbol);
        sync_info(it);
    }
    for (size_t i = 0; i < eps->n_problems; i++) {
        const ep_problem *p = &eps->problems[i];
        if (!p->name) {
            add_problem(r, p->message);
            continue;
        }
        reg_item *it = find_item(r, p->name);
        if (!it) {
            it = add_item(r, KIND_BROKEN, p->name, p->source, p->line);
        }
        set_error(it, p->message);
    }
}

reg *reg_new(const cfg *config, const char *const *extra_files)
{
    reg *r = xcalloc(1, sizeof *r);
    r->config_path = config && config->path ? xstrdup(config->path) : NULL;
    char *msg;

    /* 1. built-ins */
    const rd_driver *const *list = drivers_builtin_list();
    for (size_t i = 0; list && list[i]; i++) {
        if (find_item(r, list[i]->name)) continue;
        reg_item *it = add_item(r, KIND_BUILTIN, list[i]->name, "built-in", 0);
        it->info.driver = list[i];
        it->info.abi_version = list[i]->abi_version;
        it->load_tried = 1;
        sync_info(it);
    }
    /* 2. extra_services: the generic driver under each item's name */
    for (size_t i = 0; config && i < config->n_extra_services; i++) {
        const cfg_extra_service *es = &config->extra_services[i];
        if (!es->name || !*es->name) {
            msg = sb_fmt("%s: extra_services item %zu has no name; give it name: SERVICE_NAME",
                            r->config_path ? r->config_path : "config", i + 1);
            add_problem(r, msg);
            free(msg);
            continue;
        }
        reg_item *prev = find_item(r, es->name);
        if (prev) {
            set_errorf(prev, "driver %s is defined twice: %s and extra_services of %s; rename the extra service",
                       es->name, prev->kind == KIND_BUILTIN ? "built in" : "extra_services",
                       r->config_path ? r->config_path : "the config");
            continue;
        }
        reg_item *it = add_item(r, KIND_EXTRA, es->name, r->config_path ? r->config_path : "config", 0);
        it->load_tried = 1;
        it->info.driver = &rd_builtin_generic;
        it->info.abi_version = rd_builtin_generic.abi_version;
        sync_info(it);
    }

    /* 3. entry-point files: the installed ones and drop-in directories, then the config's
     * (docs/architecture.md §4) */
    ep_list eps = {0};
    parse_installed_entry_points(r, &eps);

    const cJSON *dep = config && config->root ? cJSON_GetObjectItemCaseSensitive(config->root, "driver_entry_points")
                                              : NULL;
    if (dep) {
        if (cJSON_IsString(dep)) {
            char *p = relative_to_config(r->config_path, dep->valuestring);
            parse_config_listed(r, &eps, config, dep, p);
            free(p);
        } else if (cJSON_IsArray(dep)) {
            const cJSON *item;
            int idx = 0;
            cJSON_ArrayForEach(item, dep) {
                idx++;
                if (!cJSON_IsString(item) || !*item->valuestring) {
                    msg = sb_fmt("%s: driver_entry_points item %d is not a file name; list entry-point "
                                    "files as strings",
                                    r->config_path ? r->config_path : "config", idx);
                    add_problem(r, msg);
                    free(msg);
                    continue;
                }
                char *p = relative_to_config(r->config_path, item->valuestring);
                parse_config_listed(r, &eps, config, item, p);
                free(p);
            }
        } else if (!cJSON_IsNull(dep)) {
            msg = sb_fmt("%s: driver_entry_points must be a list of entry-point file names; it is ignored",
                            r->config_path ? r->config_path : "config");
            add_problem(r, msg);
            free(msg);
        }
    }
    for (size_t i = 0; extra_files && extra_files[i]; i++) parse_once(r, &eps, extra_files[i]);
    const char *env = getenv("RETIRECTL_DRIVER_PATH");
    if (env && *env) {
        char *copy = xstrdup(env), *save = NULL;
        for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
            if (*tok) parse_once(r, &eps, tok);
        free(copy);
    }
    register_entry_points(r, &eps);
    ep_list_free(&eps);
    return r;
}

void reg_free(reg *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n_items; i++) {
        reg_item *it = &r->items[i];
        if (it->handle) dlclose(it->handle);
        if (it->fd_plus1) close(it->fd_plus1 - 1);
        free(it->name);
        free(it->source);
        free(it->file);
        free(it->symbol);
        free(it->load_error);
    }
    for (size_t i = 0; i < r->n_problems; i++) free(r->problems[i]);
    for (size_t i = 0; i < r->n_searched; i++) free(r->searched[i]);
    free(r->items);
    free(r->problems);
    free(r->searched);
    free(r->config_path);
    free(r);
}

/* Checks that a descriptor is complete and of our ABI; NULL, or a malloc'd sentence. */
static char *check_descriptor(const reg_item *it, const rd_driver *d)
{
    char *origin = describe_origin(it);
    const char *file = it->file ? it->file : "built-in";
    char *msg = NULL;
    if (d->abi_version != RD_ABI_VERSION) {
        msg = sb_fmt("driver %s (%s, %s:%s) was built for driver ABI %u but this retirectl uses ABI %u%s; "
                        "rebuild it against this retirectl's retirectl/driver.h (pkg-config --cflags "
                        "retirectl-driver)%s",
                        it->name, origin, file, it->symbol ? it->symbol : it->name, (unsigned)d->abi_version,
                        (unsigned)RD_ABI_VERSION, d->abi_version < RD_ABI_VERSION ? ", which loads no older plugin" : "",
                        d->abi_version < RD_ABI_VERSION
                            ? ": write method tables with RD_METHOD(...) / RD_METHODS_END, start requests and "
                              "responses from rd_http_request_new() / rd_http_response_new(), and read "
                              "\"Moving from ABI 1\" in docs/writing-a-driver.md"
                            : " or use a retirectl that has that ABI");
    } else if (d->struct_size < sizeof(rd_driver)) {
        msg = sb_fmt("driver %s (%s, %s) has a descriptor of %u bytes, smaller than the %zu bytes of ABI %u; "
                        "rebuild it against this retirectl's retirectl/driver.h and use RD_DRIVER_INIT",
                        it->name, origin, file, (unsigned)d->struct_size, sizeof(rd_driver),
                        (unsigned)RD_ABI_VERSION);
    } else if (d->host_minor_required > RD_ABI_MINOR) {
        msg = sb_fmt("driver %s (%s, %s) needs driver ABI %u.%u but this retirectl provides %u.%u; upgrade "
                        "retirectl",
                        it->name, origin, file, (unsigned)RD_ABI_VERSION, (unsigned)d->host_minor_required,
                        (unsigned)RD_ABI_VERSION, (unsigned)RD_ABI_MINOR);
    } else if (!d->get_instance || !d->methods) {
        msg = sb_fmt("driver %s (%s, %s) has no %s; a driver needs get_instance and a method table", it->name,
                        origin, file, !d->get_instance ? "get_instance function" : "method table");
    } else if (d->methods[0].struct_size < sizeof(rd_method)) {
        msg = sb_fmt("driver %s (%s, %s): its method table entries have struct_size %u, not %zu; write them "
                        "with RD_METHOD(name, run, preview) and end the table with RD_METHODS_END",
                        it->name, origin, file, (unsigned)d->methods[0].struct_size, sizeof(rd_method));
    } else {
        const rd_method *m;
        for (size_t i = 0; (m = reg_method_at(d, i)) != NULL; i++) {
            if (m->struct_size != d->methods[0].struct_size) {
                msg = sb_fmt("driver %s (%s, %s): method %s has struct_size %u, unlike the first entry; write "
                                "every entry with RD_METHOD",
                                it->name, origin, file, m->name, (unsigned)m->struct_size);
                break;
            }
            if (!m->run) {
                msg = sb_fmt("driver %s (%s, %s): method %s has no run function; set rd_method.run",
                                it->name, origin, file, m->name);
                break;
            }
            if (i > 1000) {
                msg = sb_fmt("driver %s (%s, %s): the method table has no terminating entry; end it with "
                                "RD_METHODS_END",
                                it->name, origin, file);
                break;
            }
        }
    }
    free(origin);
    return msg;
}

/* dlopen of the file open on fd (checked by ep_open_trusted): nothing can be swapped between the
 * check and the load. */
static void *dlopen_fd(int fd)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

const rd_method *reg_method_at(const rd_driver *d, size_t i)
{
    if (!d || !d->methods) return NULL;
    size_t stride = d->methods[0].struct_size;
    if (stride < sizeof(rd_method)) return NULL;
    const rd_method *m = (const rd_method *)(const void *)((const char *)d->methods + i * stride);
    return m->name ? m : NULL;
}

/* Loads one item if not tried yet; 0 when its driver is usable. */
static int load_item(reg_item *it)
{
    if (it->load_error) return -1;
    if (it->load_tried) return it->info.driver ? 0 : -1;
    it->load_tried = 1;
    char why[1024];
    char *origin = describe_origin(it);
    int rc = -1;
    struct stat st;
    void *h = NULL;
    const rd_driver *d = NULL;
    char *msg;
    int fd = -1;
    if (it->kind != KIND_PLUGIN) {
        set_errorf(it, "driver %s (%s) cannot be loaded", it->name, origin);
    } else if (stat(it->file, &st) != 0) {
        set_errorf(it,
                   "driver %s (%s): plugin %s does not exist (%s); build or install it, or fix the path in "
                   "%s:%d (paths are relative to the entry-point file)",
                   it->name, origin, it->file, strerror(errno), it->source, it->info.line);
    } else if ((fd = ep_open_trusted(it->file, "plugin", why, sizeof why)) < 0) {
        set_errorf(it, "driver %s (%s) is not loaded: %s", it->name, origin, why);
    } else {
        dlerror();
        h = dlopen_fd(fd);
        if (!h) {
            const char *e = dlerror();
            set_errorf(it,
                       "driver %s (%s): cannot load %s: %s; rebuild the plugin for this system (it must be a "
                       "shared object with its libraries installed)",
                       it->name, origin, it->file, e ? e : "unknown error");
        } else {
            dlerror();
            d = dlsym(h, it->symbol);
            const char *e = dlerror();
            if (e || !d) {
                set_errorf(it,
                           "driver %s (%s): %s does not export the symbol %s; fix the name after ':' in %s:%d "
                           "(nm -D --defined-only %s lists what it exports)",
                           it->name, origin, it->file, it->symbol, it->source, it->info.line, it->file);
            } else {
                it->info.abi_version = d->abi_version; /* shown by `drivers` even when refused */
                if ((msg = check_descriptor(it, d)) != NULL) {
                    set_error(it, msg);
                    free(msg);
                } else {
                    it->handle = h;
                    h = NULL;
                    it->fd_plus1 = fd + 1;
                    fd = -1;
                    it->info.driver = d;
                    sync_info(it);
                    rc = 0;
                }
            }
        }
    }
    if (h) dlclose(h);
    if (fd >= 0) close(fd);
    free(origin);
    return rc;
}

#define REG_PROBE_TIMEOUT_MS 10000

/* Before the first dlopen() in this process, loads the plugin once in a child process, so that
 * a plugin whose initialisation code (ELF constructors) crashes, exits or hangs is reported as
 * a load error instead of taking the calling command (drivers, check-config, the console)
 * down. Only plugins not tried yet; a problem is recorded on the item. */
static void probe_item(reg_item *it)
{
    if (it->kind != KIND_PLUGIN || it->load_tried || it->load_error) return;
    struct stat st;
    char why[1024];
    int fd;
    if (stat(it->file, &st) != 0 || (fd = ep_open_trusted(it->file, "plugin", why, sizeof why)) < 0)
        return; /* load_item reports these with the full sentence */
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        return; /* cannot probe: load_item will still try */
    }
    if (pid == 0) {
        void *h = dlopen_fd(fd);
        _exit(h ? 0 : 3);
    }
    close(fd);
    int status = 0, waited_ms = 0;
    pid_t w;
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 && waited_ms < REG_PROBE_TIMEOUT_MS) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        waited_ms += 10;
    }
    char *origin = describe_origin(it);
    if (w == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        it->load_tried = 1;
        set_errorf(it,
                   "driver %s (%s): loading %s did not finish within %d s (its initialisation code hangs); fix or "
                   "remove the plugin",
                   it->name, origin, it->file, REG_PROBE_TIMEOUT_MS / 1000);
    } else if (w == pid && WIFSIGNALED(status)) {
        const char *abbrev = sigabbrev_np(WTERMSIG(status));
        it->load_tried = 1;
        set_errorf(it,
                   "driver %s (%s): loading %s crashed (SIG%s) in the plugin's initialisation code; fix or remove "
                   "the plugin",
                   it->name, origin, it->file, abbrev ? abbrev : "?");
    } else if (w == pid && WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3) {
        it->load_tried = 1;
        set_errorf(it,
                   "driver %s (%s): loading %s made the process exit with status %d in the plugin's "
                   "initialisation code; fix or remove the plugin",
                   it->name, origin, it->file, WEXITSTATUS(status));
    }
    free(origin);
}

/* Appends the searched entry-point files to sb as "a, b" (or "none"). */
static void add_searched(const reg *r, strbuf *sb)
{
    if (!r->n_searched) {
        sb_add(sb, "none were found");
        return;
    }
    for (size_t i = 0; i < r->n_searched; i++) sb_addf(sb, "%s%s", i ? ", " : "", r->searched[i]);
}

const rd_driver *reg_load(reg *r, const char *name, char *err, size_t err_len)
{
    if (err && err_len) err[0] = '\0';
    reg_item *it = name ? find_item(r, name) : NULL;
    if (!it) {
        strbuf sb = STRBUF_INIT;
        sb_addf(&sb,
                "no driver named %s: it is not built in, not an extra_services name and not in any entry-point "
                "file searched (",
                name ? name : "(null)");
        add_searched(r, &sb);
        sb_addf(&sb, "); install its plugin and list it as %s = path/driver.so:symbol in a retirement_driver "
                     "entry-point file (driver_entry_points, --driver-path, RETIRECTL_DRIVER_PATH), or fix the "
                     "driver name in the pipeline",
                name ? name : "NAME");
        if (err && err_len) snprintf(err, err_len, "%s", sb_str(&sb));
        sb_free(&sb);
        return NULL;
    }
    if (load_item(it) != 0) {
        if (err && err_len) snprintf(err, err_len, "%s", it->load_error ? it->load_error : "driver not loaded");
        return NULL;
    }
    return it->info.driver;
}

const rd_method *reg_method(const rd_driver *d, const char *name)
{
    const rd_method *m;
    for (size_t i = 0; name && (m = reg_method_at(d, i)) != NULL; i++)
        if (strcmp(m->name, name) == 0) return m;
    return NULL;
}

const reg_driver_info *reg_find(const reg *r, const char *name)
{
    reg_item *it = name ? find_item(r, name) : NULL;
    return it ? &it->info : NULL;
}

void *reg_instantiate(reg *r, const char *name, const cJSON *config, const rd_host *host,
                      const rd_driver **driver_out, char *err, size_t err_len)
{
    if (driver_out) *driver_out = NULL;
    const rd_driver *d = reg_load(r, name, err, err_len);
    if (!d) return NULL;
    char perr[4096] = ""; /* the driver's reason; longer text is cut */
    void *inst = d->get_instance(config, host, perr, sizeof perr);
    if (!inst) {
        const reg_item *it = find_item(r, name);
        char *origin = describe_origin(it);
        perr[sizeof perr - 1] = '\0';
        if (err && err_len)
            snprintf(err, err_len, "driver %s (%s%s%s) could not start: %s", name, origin, it->file ? ", " : "",
                     it->file ? it->file : "",
                     *perr ? perr
                           : "get_instance returned no instance and gave no reason; check the driver's "
                             "settings in the config");
        free(origin);
        return NULL;
    }
    if (driver_out) *driver_out = d;
    return inst;
}

int reg_check_pipeline(reg *r, const cfg *config, char *err, size_t err_len)
{
    strbuf sb = STRBUF_INIT;
    int problems = 0;
    char e[4096];
    const char *cpath = config && config->path ? config->path : "config";
    for (size_t i = 0; config && i < config->n_steps; i++) {
        const cfg_step *s = &config->steps[i];
        char *where;
        if (s->line)
            where = sb_fmt("%s:%d: retirement_pipeline step %zu [%s, %s, %s, %s]", cpath, s->line, i + 1,
                              s->start_state, s->end_state, s->driver, s->method);
        else
            where = sb_fmt("%s: retirement_pipeline step %zu [%s, %s, %s, %s]", cpath, i + 1, s->start_state,
                              s->end_state, s->driver, s->method);
        /* a driver that does not load is reported once, at its first step */
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            if (strcmp(config->steps[j].driver, s->driver) == 0) seen = 1;
        reg_item *it = find_item(r, s->driver);
        if (it) probe_item(it);
        const rd_driver *d = reg_load(r, s->driver, e, sizeof e);
        if (!d) {
            if (!seen) {
                sb_addf(&sb, "%s: %s\n", where, e);
                problems++;
            }
            free(where);
            continue;
        }
        if (!reg_method(d, s->method)) {
            sb_addf(&sb, "%s: driver %s has no method %s (it has:", where, s->driver, s->method);
            const rd_method *m;
            for (size_t k = 0; (m = reg_method_at(d, k)) != NULL; k++) sb_addf(&sb, " %s", m->name);
            sb_add(&sb, "); fix the method name in the pipeline or update the driver\n");
            problems++;
        }
        free(where);
    }
    if (err && err_len) snprintf(err, err_len, "%s", sb_str(&sb));
    sb_free(&sb);
    return problems;
}

void reg_load_all(reg *r)
{
    for (size_t i = 0; i < r->n_items; i++) {
        probe_item(&r->items[i]);
        load_item(&r->items[i]);
    }
}

size_t reg_count(const reg *r) { return r ? r->n_items : 0; }

const reg_driver_info *reg_info(const reg *r, size_t i)
{
    if (!r || i >= r->n_items) return NULL;
    return &r->items[i].info;
}

size_t reg_problem_count(const reg *r) { return r ? r->n_problems : 0; }

const char *reg_problem(const reg *r, size_t i)
{
    if (!r || i >= r->n_problems) return NULL;
    return r->problems[i];
}

size_t reg_searched_count(const reg *r) { return r ? r->n_searched : 0; }

const char *reg_searched(const reg *r, size_t i)
{
    if (!r || i >= r->n_searched) return NULL;
    return r->searched[i];
}
