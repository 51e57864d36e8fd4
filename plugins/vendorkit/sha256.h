/*
 * vendorkit SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), header-only, for AWS Signature
 * Version 4 (HubSpot's SES alert) without linking a crypto library. Also used by the simulator
 * to verify signatures; tests check it against published vectors (FIPS "abc", RFC 4231, the AWS
 * SigV4 documentation example).
 */
#ifndef RETIRECTL_VENDORKIT_SHA256_H
#define RETIRECTL_VENDORKIT_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct vk_sha256 {
    uint32_t h[8];
    uint64_t bytes;
    unsigned char block[64];
    size_t fill;
} vk_sha256;

static inline uint32_t vk_sha256_rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

/* Processes one 64-byte block. */
static inline void vk_sha256_block(vk_sha256 *c, const unsigned char *p)
{
    static const uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = vk_sha256_rotr(w[i - 15], 7) ^ vk_sha256_rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = vk_sha256_rotr(w[i - 2], 17) ^ vk_sha256_rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3], e = c->h[4], f = c->h[5], g = c->h[6],
             h = c->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t S1 = vk_sha256_rotr(e, 6) ^ vk_sha256_rotr(e, 11) ^ vk_sha256_rotr(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = h + S1 + ch + k[i] + w[i];
        uint32_t S0 = vk_sha256_rotr(a, 2) ^ vk_sha256_rotr(a, 13) ^ vk_sha256_rotr(a, 22);
        uint32_t maj = (a & b) ^ (a & cc) ^ (b & cc);
        uint32_t t2 = S0 + maj;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = cc;
        cc = b;
        b = a;
        a = t1 + t2;
    }
    c->h[0] += a;
    c->h[1] += b;
    c->h[2] += cc;
    c->h[3] += d;
    c->h[4] += e;
    c->h[5] += f;
    c->h[6] += g;
    c->h[7] += h;
}

static inline void vk_sha256_init(vk_sha256 *c)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, iv, sizeof iv);
    c->bytes = 0;
    c->fill = 0;
}

static inline void vk_sha256_update(vk_sha256 *c, const void *data, size_t n)
{
    const unsigned char *p = data;
    c->bytes += n;
    while (n > 0) {
        size_t take = 64 - c->fill < n ? 64 - c->fill : n;
        memcpy(c->block + c->fill, p, take);
        c->fill += take;
        p += take;
        n -= take;
        if (c->fill == 64) {
            vk_sha256_block(c, c->block);
            c->fill = 0;
        }
    }
}

static inline void vk_sha256_final(vk_sha256 *c, unsigned char out[32])
{
    uint64_t bits = c->bytes * 8;
    unsigned char pad = 0x80;
    vk_sha256_update(c, &pad, 1);
    unsigned char zero = 0;
    while (c->fill != 56) vk_sha256_update(c, &zero, 1);
    unsigned char len[8];
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)(bits >> (56 - 8 * i));
    vk_sha256_update(c, len, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(c->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)c->h[i];
    }
}

/* SHA-256 of n bytes. */
static inline void vk_sha256_of(const void *data, size_t n, unsigned char out[32])
{
    vk_sha256 c;
    vk_sha256_init(&c);
    vk_sha256_update(&c, data, n);
    vk_sha256_final(&c, out);
}

/* HMAC-SHA-256(key, data). */
static inline void vk_hmac_sha256(const void *key, size_t key_len, const void *data, size_t n, unsigned char out[32])
{
    unsigned char k[64] = {0};
    if (key_len > 64) {
        vk_sha256_of(key, key_len, k);
    } else {
        memcpy(k, key, key_len);
    }
    unsigned char ipad[64], opad[64];
    for (int i = 0; i < 64; i++) {
        ipad[i] = k[i] ^ 0x36;
        opad[i] = k[i] ^ 0x5c;
    }
    unsigned char inner[32];
    vk_sha256 c;
    vk_sha256_init(&c);
    vk_sha256_update(&c, ipad, 64);
    vk_sha256_update(&c, data, n);
    vk_sha256_final(&c, inner);
    vk_sha256_init(&c);
    vk_sha256_update(&c, opad, 64);
    vk_sha256_update(&c, inner, 32);
    vk_sha256_final(&c, out);
}

/* Lower-case hex of n bytes into out (2n+1 bytes). */
static inline void vk_hex(const unsigned char *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* AWS SigV4 signature (hex, 65 bytes) of string_to_sign with secret, date (YYYYMMDD), region, service. */
static inline void vk_sigv4_signature(const char *secret, const char *date, const char *region, const char *service,
                                      const char *string_to_sign, char out[65])
{
    char kinit[256];
    snprintf(kinit, sizeof kinit, "AWS4%s", secret);
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    vk_hmac_sha256(kinit, strlen(kinit), date, strlen(date), k1);
    vk_hmac_sha256(k1, 32, region, strlen(region), k2);
    vk_hmac_sha256(k2, 32, service, strlen(service), k3);
    vk_hmac_sha256(k3, 32, "aws4_request", 12, k4);
    vk_hmac_sha256(k4, 32, string_to_sign, strlen(string_to_sign), sig);
    vk_hex(sig, 32, out);
    memset(kinit, 0, sizeof kinit);
}

#endif
