/* The plain-http rule (docs/configuration.md, http.allow_insecure_http): which URLs and proxies
 * a request may use. URLs are parsed by libcurl's URL API, the parser the connection itself
 * uses, so the host that is checked is the host that is reached. */
#ifndef RETIRECTL_ENGINE_URLRULE_H
#define RETIRECTL_ENGINE_URLRULE_H

#include <stddef.h>

#include "engine/config.h"

/* 1 when host (as libcurl gives it: IPv4 normalised, IPv6 in brackets or not) is this machine:
 * localhost, localhost., 127.0.0.0/8, ::1 or ::ffff:127.x.y.z. */
int url_host_is_loopback(const char *host);

/* The rule for a request's URL: http:// or https:// with a host, and plain http only to a
 * loopback host unless http.allow_insecure_http. 0, or -1 with err naming the URL and what to
 * change in which file. */
int url_rule_check(const cfg *config, const char *url, char *err, size_t err_len);

/* The rule for the proxy a request to url goes through (from names the setting or variable it
 * came from): a plain http:// target through a proxy that is neither https:// nor on loopback
 * is refused unless http.allow_insecure_http. "" = no proxy. 0, or -1 with err. */
int url_rule_check_proxy(const cfg *config, const char *url, const char *proxy, const char *from, char *err,
                         size_t err_len);

#endif
