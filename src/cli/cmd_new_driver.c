/* `retirectl new-driver NAME [DIR]`: writes a driver project to start from: NAME's C source
 * (one method with a preview, HTTP through the host), a CMakeLists.txt using pkg-config
 * (retirectl-driver, retirectl-drivertest), an entry-point file template, a unit test with the
 * mock host and a README. The templates live in src/cli/new_driver/. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/cmd_entry.h"
#include "cli/common.h"
#include "cli/new_driver_templates.h"
#include "drivers/builtin.h"
#include "common/strbuf.h"

/* Copies tpl with @NAME@ and @name@ replaced. */
static char *fill(const char *tpl, const char *upper, const char *lower)
{
    strbuf sb = STRBUF_INIT;
    for (const char *p = tpl; *p;) {
        if (strncmp(p, "@NAME@", 6) == 0) {
            sb_add(&sb, upper);
            p += 6;
        } else if (strncmp(p, "@name@", 6) == 0) {
            sb_add(&sb, lower);
            p += 6;
        } else {
            sb_addc(&sb, *p++);
        }
    }
    return sb_take(&sb);
}

/* Writes dir/file from tpl; 0, or -1 with a message on stderr. */
static int write_file(const char *dir, const char *file, const char *tpl, const char *upper, const char *lower)
{
    strbuf path = STRBUF_INIT;
    sb_addf(&path, "%s/%s", dir, file);
    char *text = fill(tpl, upper, lower);
    FILE *f = fopen(sb_str(&path), "wx");
    int rc = 0;
    if (!f || fputs(text, f) == EOF || fclose(f) != 0) {
        cli_error(NULL, "new-driver: cannot write %s: %s", sb_str(&path), strerror(errno));
        rc = -1;
    } else {
        printf("  wrote %s\n", sb_str(&path));
    }
    free(text);
    sb_free(&path);
    return rc;
}

/* Non-zero when dir does not exist (it is created) or is an empty directory. */
static int usable_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) return mkdir(dir, 0755) == 0;
    if (!S_ISDIR(st.st_mode)) return 0;
    strbuf probe = STRBUF_INIT;
    sb_addf(&probe, "%s/CMakeLists.txt", dir);
    int empty = stat(sb_str(&probe), &st) != 0;
    sb_free(&probe);
    return empty;
}

static int new_driver_exec(const cli_args *a, const cli_globals *g)
{
    (void)g;
    const char *name = cli_args_arg(a, 0), *dir_arg = cli_args_arg(a, 1);
    int valid = name && isalpha((unsigned char)name[0]) && strlen(name) < 64;
    for (const char *p = name; valid && *p; p++) valid = isalnum((unsigned char)*p) || *p == '_';
    if (!valid) {
        fprintf(stderr, "retirectl new-driver: give a NAME of letters, digits and '_' starting with a letter, e.g. "
                        "ACME_CRM (see retirectl new-driver --help)\n");
        return CLI_EXIT_USAGE;
    }
    char upper[64], lower[64];
    size_t n = strlen(name);
    for (size_t i = 0; i <= n; i++) {
        upper[i] = (char)toupper((unsigned char)name[i]);
        lower[i] = (char)tolower((unsigned char)name[i]);
    }
    for (const rd_driver *const *b = drivers_builtin_list(); b && *b; b++) {
        if (strcmp((*b)->name, upper) == 0) {
            fprintf(stderr, "retirectl new-driver: %s is a built-in driver's name; choose another\n", upper);
            return CLI_EXIT_USAGE;
        }
    }
    const char *dir = dir_arg ? dir_arg : lower;
    if (!usable_dir(dir)) {
        cli_error(NULL, "new-driver: %s exists and is not an empty folder (or cannot be created); name a new folder",
                  dir);
        return 1;
    }
    printf("Writing the %s driver into %s:\n", upper, dir);
    strbuf f = STRBUF_INIT;
    int rc = 0;
    sb_addf(&f, "%s.c", lower);
    rc |= write_file(dir, sb_str(&f), tpl_driver_c, upper, lower);
    sb_reset(&f);
    sb_addf(&f, "test_%s.c", lower);
    rc |= write_file(dir, sb_str(&f), tpl_test_c, upper, lower);
    sb_reset(&f);
    sb_addf(&f, "%s.cfg.in", lower);
    rc |= write_file(dir, sb_str(&f), tpl_entry_cfg, upper, lower);
    rc |= write_file(dir, "CMakeLists.txt", tpl_CMakeLists_txt, upper, lower);
    rc |= write_file(dir, "README.md", tpl_README_md, upper, lower);
    sb_free(&f);
    if (rc) return 1;
    printf("Next: cmake -S %s -B %s/build && cmake --build %s/build && (cd %s/build && ctest)\n", dir, dir, dir, dir);
    return 0;
}

const cli_cmd_entry cmd_new_driver_entry = {
    .name = "new-driver",
    .args = "NAME [DIR]",
    .summary = "write a driver project (source, CMake, entry point, test, README)",
    .about = "Writes a retirement driver project for NAME (letters, digits, _; the pipeline uses it in upper\n"
             "case) into DIR (default: ./name in lower case), which must not exist or be empty:\n"
             "  name.c            the driver: method retire_learner with a preview (POST through the host)\n"
             "  test_name.c       its unit test with the mock host (pkg-config retirectl-drivertest)\n"
             "  CMakeLists.txt    builds name.so and the test; `cmake --install` registers the driver\n"
             "  name.cfg.in       the retirement_driver entry point\n"
             "  README.md         build, test, install and try it (driver-run)\n"
             "Then: cmake -S DIR -B DIR/build && cmake --build DIR/build && (cd DIR/build && ctest)\n",
    .exec = new_driver_exec,
};

