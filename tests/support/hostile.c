/* A hostile HTTP server for tests; see hostile.h. */
#include "hostile.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Reads one request (head, and a body of Content-Length bytes) into buf; returns its length. */
static size_t read_request(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    char *end = NULL;
    while (n + 1 < cap && !(end = strstr(buf, "\r\n\r\n"))) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0) return n;
        n += (size_t)r;
        buf[n] = '\0';
    }
    if (!end) return n;
    size_t want = (size_t)(end + 4 - buf);
    const char *cl = strcasestr(buf, "\r\nContent-Length:");
    if (cl && cl < end) want += (size_t)strtoul(cl + 17, NULL, 10);
    while (n < want && n + 1 < cap) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0) break;
        n += (size_t)r;
        buf[n] = '\0';
    }
    return n;
}

static void send_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

static void answer(int fd, int status, const char *body)
{
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n", status, strlen(body));
    send_all(fd, head, (size_t)hl);
    send_all(fd, body, strlen(body));
}

static void serve(int fd, const char *mode, const char *catch_file)
{
    static char req[1 << 20];
    req[0] = '\0';
    size_t n = read_request(fd, req, sizeof req);
    if (!strcmp(mode, "catch")) {
        FILE *f = fopen(catch_file, "a");
        if (f) {
            fwrite(req, 1, n, f);
            fputs("\n----\n", f);
            fclose(f);
        }
        answer(fd, 502, "{\"detail\": \"caught\"}");
        return;
    }
    if (strstr(req, "/oauth2/access_token")) {
        answer(fd, 200, "{\"access_token\": \"" HOSTILE_TOKEN "\", \"expires_in\": 3600, \"token_type\": \"JWT\"}");
        return;
    }
    if (!strcmp(mode, "endless")) {
        const char *head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        send_all(fd, head, strlen(head));
        static char chunk[65536 + 16];
        int hl = snprintf(chunk, sizeof chunk, "10000\r\n");
        memset(chunk + hl, 'a', 65536);
        memcpy(chunk + hl + 65536, "\r\n", 2);
        signal(SIGPIPE, SIG_IGN);
        for (;;) {
            ssize_t w = write(fd, chunk, (size_t)hl + 65536 + 2);
            if (w <= 0) return;
        }
    }
    char auth[512] = "";
    const char *a = strcasestr(req, "\r\nAuthorization:");
    if (a) {
        a += 16;
        while (*a == ' ') a++;
        size_t l = strcspn(a, "\r\n");
        if (l >= sizeof auth) l = sizeof auth - 1;
        memcpy(auth, a, l);
        auth[l] = '\0';
    }
    char body[700];
    snprintf(body, sizeof body, "{\"detail\": \"bad header: %s\"}", auth);
    answer(fd, 400, body);
}

int hostile_start(hostile *h, const char *mode, const char *catch_file)
{
    memset(h, 0, sizeof *h);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return -1;
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) || listen(s, 16) || getsockname(s, (struct sockaddr *)&sa, &sl)) {
        close(s);
        return -1;
    }
    h->port = ntohs(sa.sin_port);
    snprintf(h->base_url, sizeof h->base_url, "http://127.0.0.1:%d", h->port);
    h->pid = fork();
    if (h->pid < 0) {
        close(s);
        return -1;
    }
    if (h->pid == 0) {
        for (;;) {
            int c = accept(s, NULL, NULL);
            if (c < 0) continue;
            serve(c, mode, catch_file);
            close(c);
        }
    }
    close(s);
    return 0;
}

void hostile_stop(hostile *h)
{
    if (h->pid > 0) {
        kill(h->pid, SIGKILL);
        waitpid(h->pid, NULL, 0);
    }
    h->pid = 0;
}
