/* paths (prefix paths_): where retirectl finds its own parts, worked out from where the running
 * program lies (/proc/self/exe), so an install works wherever it is unpacked (dpkg, a tarball,
 * `cmake --install --prefix ANY`). No absolute path of the build machine is compiled in: only
 * the install layout relative to the program's folder, fixed at configure time (GNUInstallDirs):
 *
 *   <prefix>/bin/retirectl, <prefix>/bin/retirectl-sim
 *   <prefix>/<libdir>/retirectl/plugins/retirement_driver.cfg     the shipped plugins
 *   <prefix>/share/retirectl/themes/NAME.theme                     console themes
 *   <sysconfdir>/retirectl/                                        config.yml, drivers.d/
 *
 * A program inside a CMake build tree (the file "retirectl-build-tree", written by CMake into the
 * build folder, lies in the program's folder or one of its three parents, and no install layout
 * surrounds the program) uses the build tree
 * instead: <build>/plugins, <build>/sim/retirectl-sim and the source tree's themes (named in
 * that file). The build tree has no system config folder, so tests never read /etc.
 *
 * Every function returns a malloc'd path (caller frees), or NULL when it cannot be known. */
#ifndef RETIRECTL_PATHS_H
#define RETIRECTL_PATHS_H

/* The folder of the running program ("/usr/bin"), or NULL when /proc/self/exe is unreadable. */
char *paths_exe_dir(void);
/* The build tree the program runs from, or NULL for an installed program. */
char *paths_build_root(void);
/* <prefix>/<libdir>/retirectl, or the build tree's root: the shipped plugins are in its plugins/. */
char *paths_lib_dir(void);
/* The folder of the shipped plugins and their entry-point file retirement_driver.cfg. */
char *paths_plugin_dir(void);
/* The folder of the shipped console themes (<prefix>/share/retirectl/themes or <source>/themes). */
char *paths_theme_dir(void);
/* <sysconfdir>/retirectl (/etc/retirectl for a /usr install); NULL in a build tree. */
char *paths_sysconf_dir(void);
/* retirectl-sim: $RETIRECTL_SIM_BIN, the build tree's, the one beside this program, else the
 * first on $PATH; NULL when none is executable. */
char *paths_sim_bin(void);

#endif
