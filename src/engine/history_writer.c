/* history, the writer process: the one process that talks to the store while retirements run
 * (see history.h). The supervisor sends each record as one frame of its row's values
 * (history_row.c: no JSON to print or parse on either side) over a socket pair (a socket,
 * so job workers forked later neutralise their inherited copy like any socket); the writer
 * answers with "E <sentence>" for each problem and "L <n>" (records it could not write) before
 * it exits at end of input. */
#include "engine/history_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "common/clock.h"
#include "common/xalloc.h"

/* Records the writer keeps while the store is down; the oldest go first (counted as lost). */
#define WRITER_MAX_PENDING 20000
/* Seconds between tries of a store that is down. */
#define WRITER_RETRY_S 30.0
/* Records per transaction at most. */
#define WRITER_BATCH 500
/* Bytes queued in the supervisor for a writer that does not keep up before records are dropped. */
#define MAX_OUT_BYTES (64u << 20)

struct hist_writer {
    pid_t pid;
    int fd;        /* non-blocking; -1 once the writer is gone */
    strbuf out;    /* lines not yet accepted by the socket */
    size_t out_off;
    strbuf in;     /* reports not yet complete */
    long long lost; /* dropped here, or reported lost by the writer */
    int final_report; /* the writer's "L" line arrived */
};

/* ------------------------------------------------------------------------------------------ */
/* the child */

typedef struct wstate {
    const cfg *config;
    int fd;
    history *store;
    double retry_at;
    hist_row **pending;
    size_t n, cap;
    long long lost;
} wstate;

/* Writes a whole report line to the supervisor (blocking; it reads them). */
static void report(wstate *w, char tag, const char *text)
{
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%c %s", tag, text);
    for (char *c = sb.data; c && *c; c++)
        if (*c == '\n') *c = ' ';
    sb_addc(&sb, '\n');
    size_t off = 0;
    while (off < sb.len) {
        ssize_t k = write(w->fd, sb.data + off, sb.len - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        off += (size_t)k;
    }
    sb_free(&sb);
}

/* Orders by id, then arrival. */
static int by_id(const void *a, const void *b)
{
    const hist_row *x = *(hist_row *const *)a, *y = *(hist_row *const *)b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Keeps only the latest record of each job (a running row and then the finished one). */
static void dedupe(wstate *w)
{
    if (w->n < 2) return;
    qsort(w->pending, w->n, sizeof *w->pending, by_id);
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++) {
        if (k && w->pending[k - 1]->id == w->pending[i]->id) {
            int stored = w->pending[k - 1]->stored || w->pending[i]->stored;
            hist_row_free(w->pending[k - 1]);
            w->pending[k - 1] = w->pending[i];
            w->pending[k - 1]->stored = stored;
        } else {
            w->pending[k++] = w->pending[i];
        }
    }
    w->n = k;
}

/* Writes what is pending (force: even while backing off). */
static void write_pending(wstate *w, int force)
{
    if (!w->n) return;
    double now = clk_mono_s();
    char err[2048] = "";
    if (!w->store) {
        if (!force && now < w->retry_at) return;
        if (hist_open(w->config, &w->store, err, sizeof err) != 0) {
            w->store = NULL;
            w->retry_at = now + WRITER_RETRY_S;
            report(w, 'E', err);
            return;
        }
    }
    dedupe(w);
    size_t done = 0;
    while (done < w->n) {
        size_t k = w->n - done < WRITER_BATCH ? w->n - done : WRITER_BATCH;
        if (hist_save_rows(w->store, w->pending + done, k, err, sizeof err) != 0) {
            report(w, 'E', err);
            hist_close(w->store);
            w->store = NULL;
            w->retry_at = now + WRITER_RETRY_S;
            break;
        }
        for (size_t i = done; i < done + k; i++) hist_row_free(w->pending[i]);
        done += k;
    }
    memmove(w->pending, w->pending + done, (w->n - done) * sizeof *w->pending);
    w->n -= done;
}

/* Queues one record (the oldest goes when WRITER_MAX_PENDING are waiting). */
static void take_row(wstate *w, hist_row *r, long long *arrival)
{
    r->order = ++*arrival;
    if (w->n >= WRITER_MAX_PENDING) {
        hist_row_free(w->pending[0]);
        memmove(w->pending, w->pending + 1, (w->n - 1) * sizeof *w->pending);
        w->n--;
        w->lost++;
    }
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 256;
        hist_row **p = xrealloc(w->pending, w->cap * sizeof *p);
        w->pending = p;
    }
    w->pending[w->n++] = r;
}

/* Queues the complete frames at the start of buf and drops them from it. -1 on a malformed
 * frame (the stream cannot be followed after it). */
static int take_frames(wstate *w, strbuf *buf, long long *arrival)
{
    size_t start = 0;
    long used;
    hist_row *r;
    while ((used = hist_row_decode(buf->data + start, buf->len - start, &r)) > 0) {
        take_row(w, r, arrival);
        start += (size_t)used;
    }
    memmove(buf->data, buf->data + start, buf->len - start);
    buf->len -= start;
    return used < 0 ? -1 : 0;
}

__attribute__((noreturn)) static void writer_main(const cfg *c, int fd)
{
    signal(SIGINT, SIG_IGN); /* Ctrl-C is for the supervisor; we finish at end of input */
    signal(SIGTERM, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    /* only the socket stays: the supervisor's other descriptors (workers' pipes, LMS sockets)
     * must not be held open by us */
    if (fd != 3) {
        dup2(fd, 3);
        fd = 3;
    }
    close_range(4, ~0U, 0);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
        close(devnull);
    }
    wstate w;
    memset(&w, 0, sizeof w);
    w.config = c;
    w.fd = fd;
    strbuf buf = STRBUF_INIT;
    long long arrival = 0;
    int eof = 0;
    char chunk[65536];
    while (!eof) {
        /* write when nothing more is waiting, or a batch is full */
        struct pollfd p = {fd, POLLIN, 0};
        double wait_s = w.store || clk_mono_s() >= w.retry_at ? 0 : w.retry_at - clk_mono_s();
        int timeout = w.n ? (int)ceil(wait_s * 1000.0) : -1;
        int r = poll(&p, 1, timeout);
        if (r < 0 && errno == EINTR) continue;
        if (r > 0) {
            ssize_t k = read(fd, chunk, sizeof chunk);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) {
                eof = 1;
            } else {
                sb_addn(&buf, chunk, (size_t)k);
                if (take_frames(&w, &buf, &arrival) != 0) {
                    report(&w, 'E', "history: the writer received a malformed record; the rest of this run is NOT "
                                    "recorded");
                    eof = 1;
                } else if (w.n < WRITER_BATCH) {
                    continue; /* more may be coming: batch it */
                }
            }
        }
        write_pending(&w, 0);
    }
    write_pending(&w, 1); /* the last try, whatever the back-off */
    char n[32];
    snprintf(n, sizeof n, "%lld", w.lost + (long long)w.n);
    report(&w, 'L', n);
    hist_close(w.store);
    _exit(0);
}

/* ------------------------------------------------------------------------------------------ */
/* the supervisor's side */

hist_writer *hist_writer_start(const cfg *c, char *err, size_t err_len)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        snprintf(err, err_len, "history: cannot create the writer's socket: %s", strerror(errno));
        return NULL;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, err_len, "history: cannot start the writer process: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return NULL;
    }
    if (pid == 0) {
        close(sv[0]);
        writer_main(c, sv[1]);
    }
    close(sv[1]);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    hist_writer *w = xcalloc(1, sizeof *w);
    w->pid = pid;
    w->fd = sv[0];
    return w;
}

/* Pushes queued bytes into the socket without blocking. -1 when the writer is gone. */
static int push(hist_writer *w)
{
    if (w->fd < 0) return -1;
    while (w->out_off < w->out.len) {
        ssize_t k = send(w->fd, w->out.data + w->out_off, w->out.len - w->out_off, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        if (k <= 0) return -1;
        w->out_off += (size_t)k;
    }
    sb_reset(&w->out);
    w->out_off = 0;
    return 0;
}

int hist_writer_send(hist_writer *w, hist_job *const *jobs, size_t n)
{
    if (w->fd < 0) {
        w->lost += (long long)n;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (w->out.len > MAX_OUT_BYTES) { /* the writer has stopped reading */
            w->lost++;
            continue;
        }
        hist_row_encode(jobs[i], &w->out);
    }
    return push(w);
}

/* Handles complete report lines in w->in. */
static void handle_reports(hist_writer *w, void (*fn)(void *, const char *), void *user)
{
    if (!w->in.data) return;
    size_t start = 0;
    for (size_t i = 0; i < w->in.len; i++) {
        if (w->in.data[i] != '\n') continue;
        w->in.data[i] = '\0';
        const char *line = w->in.data + start;
        if (line[0] == 'E' && line[1] == ' ' && fn) fn(user, line + 2);
        if (line[0] == 'L' && line[1] == ' ') {
            w->lost += atoll(line + 2);
            w->final_report = 1;
        }
        start = i + 1;
    }
    memmove(w->in.data, w->in.data + start, w->in.len - start);
    w->in.len -= start;
    w->in.data[w->in.len] = '\0';
}

/* Reads what the writer reported (non-blocking). 1 at its end of output. */
static int read_reports(hist_writer *w, void (*fn)(void *, const char *), void *user)
{
    char chunk[4096];
    int ended = 0;
    for (;;) {
        ssize_t k = recv(w->fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (k < 0 && errno == EINTR) continue;
        if (k > 0) {
            sb_addn(&w->in, chunk, (size_t)k);
            continue;
        }
        ended = k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
        break;
    }
    handle_reports(w, fn, user);
    return ended;
}

void hist_writer_poll(hist_writer *w, void (*fn)(void *user, const char *message), void *user)
{
    if (w->fd < 0) return;
    if (push(w) != 0 || read_reports(w, fn, user)) {
        close(w->fd);
        w->fd = -1;
        if (fn) fn(user, "history: the writer process stopped; the jobs from now on are NOT recorded");
    }
}

long long hist_writer_finish(hist_writer *w, double timeout_s, void (*fn)(void *user, const char *message),
                             void *user)
{
    if (!w) return 0;
    double until = clk_mono_s() + timeout_s;
    int sent_all = 0;
    if (w->fd >= 0) {
        /* the rest, waiting for the socket as needed */
        while (w->out.len > w->out_off && clk_mono_s() < until) {
            if (push(w) != 0) break;
            if (w->out.len <= w->out_off) break;
            struct pollfd p = {w->fd, POLLOUT, 0};
            poll(&p, 1, 100);
            read_reports(w, fn, user);
        }
        sent_all = w->out.len <= w->out_off;
        shutdown(w->fd, SHUT_WR); /* end of input: the writer writes the rest and reports */
        while (clk_mono_s() < until) {
            struct pollfd p = {w->fd, POLLIN, 0};
            double left = until - clk_mono_s();
            poll(&p, 1, left > 0 ? (int)ceil(left * 1000.0) : 0);
            if (read_reports(w, fn, user)) break;
        }
        close(w->fd);
        w->fd = -1;
    }
    int st;
    pid_t r;
    /* its end of the socket closes as it exits: give it until the deadline to be reaped */
    while ((r = waitpid(w->pid, &st, WNOHANG)) == 0 && clk_mono_s() < until) {
        struct timespec ts = {0, 2000000L};
        nanosleep(&ts, NULL);
    }
    if (r == 0) {
        /* still writing after the timeout: what it had is lost */
        kill(w->pid, SIGKILL);
        waitpid(w->pid, &st, 0);
        if (fn) fn(user, "history: the writer did not finish in time and was stopped");
    }
    if (!sent_all && fn) fn(user, "history: the writer did not take every record in time");
    long long lost = w->final_report ? w->lost : -1;
    sb_free(&w->out);
    sb_free(&w->in);
    free(w);
    return lost;
}
