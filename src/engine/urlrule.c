/* The plain-http rule with libcurl's URL API; see urlrule.h. */
#include "engine/urlrule.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/config_internal.h"
#include "common/strbuf.h"

/* A URL as libcurl will connect to it: lower-case scheme and host (percent-decoded, IPv4
 * shorthands such as 127.1 or 0x7f.0.0.1 normalised, IPv6 in brackets). */
typedef struct {
    char scheme[16];
    char host[256];
} url_parts;

/* Copies a libcurl part lower-cased into out (cut to n) and frees it. */
static void take_part(char *part, char *out, size_t n)
{
    size_t i = 0;
    for (; part && part[i] && i + 1 < n; i++) out[i] = (char)tolower((unsigned char)part[i]);
    out[i] = '\0';
    curl_free(part);
}

/* Parses url as libcurl does for a connection (flags: CURLU_* for curl_url_set). CURLUE_OK, or
 * libcurl's reason it refuses the URL (the connection would fail the same way). */
static CURLUcode parse_url(const char *url, unsigned flags, url_parts *out)
{
    memset(out, 0, sizeof *out);
    CURLU *u = curl_url();
    if (!u) return CURLUE_OUT_OF_MEMORY;
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, flags);
    char *scheme = NULL, *host = NULL;
    if (rc == CURLUE_OK) rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (rc == CURLUE_OK) rc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    take_part(scheme, out->scheme, sizeof out->scheme);
    take_part(host, out->host, sizeof out->host);
    curl_url_cleanup(u);
    return rc;
}

int url_host_is_loopback(const char *host)
{
    char h[256];
    size_t len = strlen(host);
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    if (len >= sizeof h) return 0;
    memcpy(h, host, len);
    h[len] = '\0';
    if (!strcasecmp(h, "localhost") || !strcasecmp(h, "localhost.")) return 1;
    struct in_addr a4;
    if (inet_pton(AF_INET, h, &a4) == 1) return ((const unsigned char *)&a4)[0] == 127;
    struct in6_addr a6;
    if (inet_pton(AF_INET6, h, &a6) != 1) return 0;
    return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}

int url_rule_check(const cfg *config, const char *url, char *err, size_t n)
{
    url_parts p;
    CURLUcode rc = parse_url(url, 0, &p);
    int web = !strcmp(p.scheme, "http") || !strcmp(p.scheme, "https");
    if ((*p.scheme && !web) || rc == CURLUE_UNSUPPORTED_SCHEME || rc == CURLUE_BAD_SCHEME) {
        cfg_set_err(err, n, "refusing to send to %s: only http:// and https:// URLs are supported; check the URL in %s.",
                url, config->path);
        return -1;
    }
    if (rc == CURLUE_NO_HOST || (rc == CURLUE_OK && !*p.host)) {
        cfg_set_err(err, n, "refusing to send to %s: the URL has no host; check the URL in %s.", url, config->path);
        return -1;
    }
    if (rc != CURLUE_OK) {
        cfg_set_err(err, n, "refusing to send to %s: it is not a URL libcurl can use (%s); check the URL in %s.", url,
                curl_url_strerror(rc), config->path);
        return -1;
    }
    if (!strcmp(p.scheme, "http") && !url_host_is_loopback(p.host) && !config->http.allow_insecure_http) {
        cfg_set_err(err, n,
                "refusing plain http:// to %s (%s): credentials and learner data would travel unencrypted; use "
                "https://, or set http.allow_insecure_http: true in %s if this network is trusted.",
                p.host, url, config->path);
        return -1;
    }
    return 0;
}

int url_rule_check_proxy(const cfg *config, const char *url, const char *proxy, const char *from, char *err,
                         size_t n)
{
    url_parts target;
    parse_url(url, 0, &target);
    if (!*proxy || strcmp(target.scheme, "http") || config->http.allow_insecure_http) return 0;
    strbuf s = STRBUF_INIT;
    if (!strstr(proxy, "://")) sb_add(&s, "http://"); /* libcurl's default proxy scheme */
    sb_add(&s, proxy);
    url_parts p;
    /* socks4://, socks5h:// ... are proxy schemes libcurl's URL API does not know as protocols */
    CURLUcode rc = parse_url(sb_str(&s), CURLU_NON_SUPPORT_SCHEME, &p);
    sb_free(&s);
    if (rc == CURLUE_OK && (!strcmp(p.scheme, "https") || url_host_is_loopback(p.host))) return 0;
    cfg_set_err(err, n,
            "refusing to send %s through the proxy %s (from %s): the request, with credentials, would reach a "
            "host off this machine unencrypted; use an https:// proxy or one on loopback, unset %s, or set "
            "http.allow_insecure_http: true in %s if this network is trusted.",
            url, *p.host ? p.host : "(not a URL libcurl can use)", from, from, config->path);
    return -1;
}
