/* Opaque refresh tokens: 32 random bytes in base64url; the store keeps only SHA-256 of the
 * text, so a leaked database cannot be replayed. See host/auth.h. */
#include <string.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include "auth.h"

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void base64url(const unsigned char *in, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = B64URL[(v >> 18) & 63];
        out[o++] = B64URL[(v >> 12) & 63];
        if (i + 1 < n) out[o++] = B64URL[(v >> 6) & 63];
        if (i + 2 < n) out[o++] = B64URL[v & 63];
    }
    out[o] = 0;
}

static void sha256_hex(const char *text, char hex[65]) {
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)text, strlen(text), d);
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = 0;
}

int sdsim_refresh_token_new(char token[SDSIM_REFRESH_TOKEN_LEN + 1], char hash_hex[65]) {
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) return -1;
    base64url(raw, sizeof raw, token);
    OPENSSL_cleanse(raw, sizeof raw);
    sha256_hex(token, hash_hex);
    return 0;
}

int sdsim_refresh_token_hash(const char *token, char hash_hex[65]) {
    if (!token || strlen(token) != SDSIM_REFRESH_TOKEN_LEN) return -1;
    for (const char *p = token; *p; p++)
        if (!strchr(B64URL, *p)) return -1;
    sha256_hex(token, hash_hex);
    return 0;
}
