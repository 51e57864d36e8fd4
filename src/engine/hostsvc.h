/* hostsvc (prefix hsvc_): the pure services rd_host offers drivers since ABI 2.0 (see
 * include/retirectl/driver.h): SHA-256, HMAC-SHA256 and base64 over OpenSSL's libcrypto,
 * AWS Signature Version 4, and a URL append that adds no trailing slash. Results are malloc'd
 * (caller frees). host.c wires them into rd_host; the mock host of drivertest.h uses them too. */
#ifndef RETIRECTL_HOSTSVC_H
#define RETIRECTL_HOSTSVC_H

#include <stddef.h>

#include "retirectl/driver.h"

void hsvc_sha256(const void *data, size_t len, unsigned char out[32]);
void hsvc_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, unsigned char out[32]);
/* Standard base64 with '=' padding. */
char *hsvc_base64(const void *data, size_t len);
/* base + "/" + path with exactly one slash between them, nothing appended. */
char *hsvc_url_append(const char *base, const char *path);
/* The Authorization header value of AWS Signature V4 for req, or NULL with a sentence in err. */
char *hsvc_aws_sigv4(const rd_aws_sigv4 *req, char *err, size_t err_len);

#endif
