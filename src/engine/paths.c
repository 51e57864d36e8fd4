/* paths: the install layout relative to the running program (see paths.h). */
#include "engine/paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strbuf.h"

/* Relative to the program's folder; set by CMake from GNUInstallDirs (src/engine/CMakeLists.txt). */
#ifndef RETIRECTL_REL_LIBDIR
#define RETIRECTL_REL_LIBDIR "../lib/retirectl"
#endif
#ifndef RETIRECTL_REL_DATADIR
#define RETIRECTL_REL_DATADIR "../share/retirectl"
#endif
#ifndef RETIRECTL_REL_SYSCONFDIR
#define RETIRECTL_REL_SYSCONFDIR "../etc/retirectl"
#endif

#define BUILD_MARKER "retirectl-build-tree"

char *paths_exe_dir(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return NULL;
    *slash = '\0';
    return sb_fmt("%s", slash == exe ? "/" : exe);
}

/* Returns dir with its last component removed (malloc'd), or NULL at "/". */
static char *parent_of(const char *dir)
{
    const char *slash = strrchr(dir, '/');
    if (!slash || (slash == dir && !dir[1])) return NULL;
    return sb_fmt("%.*s", slash == dir ? 1 : (int)(slash - dir), dir);
}

/* Non-zero when the install layout surrounds the program (its lib or share folder exists): an
 * install wins over a build tree above it (`cmake --install build --prefix build/p`). */
static int installed_layout(const char *dir)
{
    char *lib = sb_fmt("%s/" RETIRECTL_REL_LIBDIR, dir), *data = sb_fmt("%s/" RETIRECTL_REL_DATADIR, dir);
    struct stat st;
    int yes = (stat(lib, &st) == 0 && S_ISDIR(st.st_mode)) || (stat(data, &st) == 0 && S_ISDIR(st.st_mode));
    free(lib);
    free(data);
    return yes;
}

char *paths_build_root(void)
{
    char *dir = paths_exe_dir();
    if (dir && installed_layout(dir)) {
        free(dir);
        return NULL;
    }
    for (int up = 0; dir && up <= 3; up++) {
        char *marker = sb_fmt("%s/" BUILD_MARKER, dir);
        int found = access(marker, R_OK) == 0;
        free(marker);
        if (found) return dir;
        char *parent = parent_of(dir);
        free(dir);
        dir = parent;
    }
    free(dir);
    return NULL;
}

/* The value of "key=" in the build tree's marker file (malloc'd), or NULL. */
static char *marker_value(const char *root, const char *key)
{
    char *marker = sb_fmt("%s/" BUILD_MARKER, root);
    FILE *f = fopen(marker, "r");
    free(marker);
    if (!f) return NULL;
    char line[PATH_MAX + 64];
    char *value = NULL;
    size_t klen = strlen(key);
    while (!value && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, key, klen) == 0 && line[klen] == '=') value = sb_fmt("%s", line + klen + 1);
    }
    fclose(f);
    return value;
}

/* <exe_dir>/<rel> with ".." folded (the program's folder is a real path, so that is exact);
 * malloc'd, or NULL when the program's folder is unknown. */
static char *beside_exe(const char *rel)
{
    char *dir = paths_exe_dir();
    if (!dir) return NULL;
    strbuf sb = STRBUF_INIT;
    sb_add(&sb, strcmp(dir, "/") == 0 ? "" : dir);
    free(dir);
    for (const char *p = rel; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && strncmp(p, "..", 2) == 0) {
            char *slash = strrchr(sb.data ? sb.data : "", '/');
            if (slash) sb.len = (size_t)(slash - sb.data), sb.data[sb.len] = '\0';
        } else if (n && !(n == 1 && *p == '.')) {
            sb_addf(&sb, "/%.*s", (int)n, p);
        }
        p += n + (p[n] == '/');
    }
    if (!sb.len) sb_add(&sb, "/");
    return sb_take(&sb);
}

char *paths_lib_dir(void)
{
    char *root = paths_build_root();
    return root ? root : beside_exe(RETIRECTL_REL_LIBDIR);
}

char *paths_plugin_dir(void)
{
    char *lib = paths_lib_dir();
    if (!lib) return NULL;
    char *p = sb_fmt("%s/plugins", lib);
    free(lib);
    return p;
}

char *paths_theme_dir(void)
{
    char *root = paths_build_root();
    if (!root) return beside_exe(RETIRECTL_REL_DATADIR "/themes");
    char *src = marker_value(root, "source");
    free(root);
    if (!src) return NULL;
    char *p = sb_fmt("%s/themes", src);
    free(src);
    return p;
}

char *paths_sysconf_dir(void)
{
    char *root = paths_build_root();
    if (root) {
        free(root);
        return NULL;
    }
    return beside_exe(RETIRECTL_REL_SYSCONFDIR);
}

/* path if it is an executable file (ownership passes back), else frees it and returns NULL. */
static char *if_executable(char *path)
{
    if (path && access(path, X_OK) == 0) return path;
    free(path);
    return NULL;
}

char *paths_sim_bin(void)
{
    const char *env = getenv("RETIRECTL_SIM_BIN");
    if (env && *env) return if_executable(sb_fmt("%s", env));
    char *root = paths_build_root(), *found = NULL;
    if (root) found = if_executable(sb_fmt("%s/sim/retirectl-sim", root));
    free(root);
    if (!found) found = if_executable(beside_exe("retirectl-sim"));
    const char *path = getenv("PATH");
    if (!found && path) {
        for (const char *p = path; !found && *p;) {
            size_t n = strcspn(p, ":");
            if (n) found = if_executable(sb_fmt("%.*s/retirectl-sim", (int)n, p));
            p += n + (p[n] == ':');
        }
    }
    return found;
}
