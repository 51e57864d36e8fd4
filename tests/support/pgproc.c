/* A private PostgreSQL server for tests and benchmarks. See pgproc.h. */
#include "pgproc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The folder holding initdb and postgres, into buf; 0 or -1. */
static int find_bin(char *buf, size_t len)
{
    const char *env = getenv("RETIRECTL_PG_BIN");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
    } else {
        DIR *d = opendir("/usr/lib/postgresql");
        if (!d) return -1;
        int best = -1;
        struct dirent *de;
        while ((de = readdir(d)))
            if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && atoi(de->d_name) > best) best = atoi(de->d_name);
        closedir(d);
        if (best < 0) return -1;
        snprintf(buf, len, "/usr/lib/postgresql/%d/bin", best);
    }
    char probe[600];
    snprintf(probe, sizeof probe, "%s/initdb", buf);
    if (access(probe, X_OK) != 0) return -1;
    snprintf(probe, sizeof probe, "%s/postgres", buf);
    return access(probe, X_OK) == 0 ? 0 : -1;
}

/* A free loopback TCP port, or -1. */
static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    int port = -1;
    if (bind(s, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(s, (struct sockaddr *)&a, &l) == 0)
        port = ntohs(a.sin_port);
    close(s);
    return port;
}

/* Forks argv as the unprivileged user (when root), output to log. Returns the pid or -1. */
static pid_t spawn(char *const *argv, const char *log)
{
    pid_t pid = fork();
    if (pid != 0) return pid;
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    setsid();
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("nobody");
        if (!pw || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) _exit(126);
    }
    execv(argv[0], argv);
    _exit(127);
}

/* Removes dir and everything under it (as root, the files of nobody too). */
static void remove_tree(const char *dir)
{
    if (!dir[0]) return;
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/rm", "rm", "-rf", dir, (char *)NULL);
        _exit(127);
    }
    if (pid > 0) waitpid(pid, NULL, 0);
}

/* Appends the last lines of the server log to why (the log is removed by pg_stop). */
static void add_log_tail(const char *log, char *why, size_t why_len)
{
    FILE *f = fopen(log, "r");
    if (!f) return;
    char buf[600];
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    size_t used = strlen(why);
    if (used + 8 < why_len) snprintf(why + used, why_len - used, "; log: %s", buf);
}

int pg_start(pg_proc *pg, char *why, size_t why_len)
{
    memset(pg, 0, sizeof *pg);
    char bin[512];
    if (find_bin(bin, sizeof bin) != 0) {
        snprintf(why, why_len,
                 "PostgreSQL server binaries not found (no initdb/postgres under /usr/lib/postgresql/*/bin or "
                 "$RETIRECTL_PG_BIN): install Debian's postgresql package (scripts/deps.sh does)");
        return 1;
    }
    snprintf(pg->dir, sizeof pg->dir, "/tmp/retirectl-pg.XXXXXX");
    if (!mkdtemp(pg->dir)) {
        snprintf(why, why_len, "mkdtemp: %s", strerror(errno));
        pg->dir[0] = '\0';
        return -1;
    }
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("nobody");
        if (!pw || chown(pg->dir, pw->pw_uid, pw->pw_gid) != 0) {
            snprintf(why, why_len, "cannot hand %s to user nobody", pg->dir);
            pg_stop(pg);
            return -1;
        }
    }
    char data[300], log[300], initdb[600], postgres[600], port_s[16], sockopt[400];
    snprintf(data, sizeof data, "%s/data", pg->dir);
    snprintf(log, sizeof log, "%s.log", pg->dir);
    snprintf(initdb, sizeof initdb, "%s/initdb", bin);
    snprintf(postgres, sizeof postgres, "%s/postgres", bin);
    char *iargv[] = {initdb, "-D", data, "-A", "trust", "-U", "retirectl", "-E", "UTF8", "--locale=C", "--no-sync",
                     NULL};
    pid_t ip = spawn(iargv, log);
    int st = 0;
    if (ip < 0 || waitpid(ip, &st, 0) != ip || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(why, why_len, "initdb failed (exit %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        add_log_tail(log, why, why_len);
        pg_stop(pg);
        return -1;
    }
    for (int attempt = 0; attempt < 5; attempt++) {
        pg->port = free_port();
        snprintf(port_s, sizeof port_s, "%d", pg->port);
        snprintf(sockopt, sizeof sockopt, "unix_socket_directories=%s", pg->dir);
        char *pargv[] = {postgres, "-D", data, "-p", port_s, "-c", "listen_addresses=127.0.0.1", "-c", sockopt,
                         "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", NULL};
        pg->pid = spawn(pargv, log);
        if (pg->pid < 0) break;
        snprintf(pg->url, sizeof pg->url, "postgresql://retirectl@127.0.0.1:%d/postgres", pg->port);
        for (int i = 0; i < 300; i++) {
            if (PQping(pg->url) == PQPING_OK) return 0;
            int ws;
            if (waitpid(pg->pid, &ws, WNOHANG) == pg->pid) { /* port taken meanwhile: try another */
                pg->pid = 0;
                break;
            }
            struct timespec ts = {0, 50000000L};
            nanosleep(&ts, NULL);
        }
        if (pg->pid > 0) break;
    }
    snprintf(why, why_len, "postgres did not accept connections");
    add_log_tail(log, why, why_len);
    pg_stop(pg);
    return -1;
}

void pg_stop(pg_proc *pg)
{
    if (pg->pid > 0) {
        kill(pg->pid, SIGINT);
        for (int i = 0; i < 200; i++) {
            if (waitpid(pg->pid, NULL, WNOHANG) == pg->pid) {
                pg->pid = 0;
                break;
            }
            struct timespec ts = {0, 50000000L};
            nanosleep(&ts, NULL);
        }
        if (pg->pid > 0) {
            kill(pg->pid, SIGKILL);
            waitpid(pg->pid, NULL, 0);
        }
        pg->pid = 0;
    }
    remove_tree(pg->dir);
    if (pg->dir[0]) {
        char log[300];
        snprintf(log, sizeof log, "%s.log", pg->dir);
        unlink(log);
    }
    pg->dir[0] = '\0';
}
