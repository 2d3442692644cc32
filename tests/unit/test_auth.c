/* Auth: forged and broken access tokens are refused, passwords verify, refresh tokens hash,
 * the signing secret's file is created private and a readable one is fixed or refused.
 * Forged tokens are built here byte by byte with OpenSSL's HMAC (not with libjwt), so the
 * tests do not share the code they check. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>
#include "auth.h"
#include "test.h"

static const char SECRET[] = "0123456789abcdef0123456789abcdef-test-secret";
static const char USER[] = "3f0e8a4c-1b2d-4c3e-9f00-123456789abc";
static sdsim_jwt_key key;
static const int64_t NOW = 1800000000; /* a fixed "now" in seconds */

static void b64url(const unsigned char *in, size_t n, char *out) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];
        if (i + 1 < n) out[o++] = t[v >> 6 & 63];
        if (i + 2 < n) out[o++] = t[v & 63];
    }
    out[o] = 0;
}

/* header.payload.signature with the named digest ("none": no signature). */
static char *forge(const char *header, const char *payload, const char *alg, const char *secret) {
    static char tok[8192];
    char h[1024], p[2048];
    b64url((const unsigned char *)header, strlen(header), h);
    b64url((const unsigned char *)payload, strlen(payload), p);
    snprintf(tok, sizeof tok, "%s.%s.", h, p);
    if (strcmp(alg, "none") != 0) {
        const EVP_MD *md = !strcmp(alg, "HS512") ? EVP_sha512() : EVP_sha256();
        unsigned char mac[64];
        unsigned len = 0;
        HMAC(md, secret, (int)strlen(secret), (const unsigned char *)tok, strlen(tok) - 1, mac,
             &len);
        b64url(mac, len, tok + strlen(tok));
    }
    return tok;
}

static char *claims(long iat, long exp, const char *iss, const char *typ, const char *role) {
    static char buf[512];
    snprintf(buf, sizeof buf,
             "{\"iss\":\"%s\",\"sub\":\"%s\",\"typ\":\"%s\",\"role\":\"%s\",\"iat\":%ld,"
             "\"exp\":%ld}",
             iss, USER, typ, role, iat, exp);
    return buf;
}

static const char *H256 = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static int verify(const char *token, const char **why) {
    sdsim_access_claims c;
    return sdsim_jwt_verify(&key, token, NOW, &c, why);
}

static void setup(void) {
    sdsim_jwt_key_init(&key, (const unsigned char *)SECRET, strlen(SECRET), NULL, 900);
}

static void jwt_roundtrip(void) {
    setup();
    char *t = sdsim_jwt_issue(&key, USER, "premium", NOW);
    CHECK(t != NULL);
    sdsim_access_claims c;
    const char *why = NULL;
    CHECK(sdsim_jwt_verify(&key, t, NOW + 10, &c, &why) == 0);
    CHECK(!strcmp(c.sub, USER) && !strcmp(c.role, "premium"));
    CHECK(c.iat == NOW && c.exp == NOW + 900);
    /* Expired at exactly exp; a token from ourselves, forged by hand, is accepted too. */
    CHECK(sdsim_jwt_verify(&key, t, NOW + 900, &c, &why) == -1 && !strcmp(why, "expired"));
    CHECK(verify(forge(H256, claims(NOW, NOW + 60, "sdsim", "access", "user"), "HS256", SECRET),
                 &why) == 0);
    CHECK(sdsim_jwt_issue(&key, USER, "root", NOW) == NULL);
    free(t);
}

static void jwt_forgeries(void) {
    setup();
    const char *why = NULL;
    const char *good = claims(NOW, NOW + 60, "sdsim", "access", "admin");
    /* alg none: with no signature, and with a signature appended. */
    char *none = forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", good, "none", NULL);
    CHECK(verify(none, &why) == -1);
    char with_sig[8192];
    snprintf(with_sig, sizeof with_sig, "%sAAAA", none);
    CHECK(verify(with_sig, &why) == -1);
    /* The right key with another HMAC: libjwt would accept it. */
    CHECK(verify(forge("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", good, "HS512", SECRET), &why) == -1);
    CHECK(!strcmp(why, "algorithm is not HS256"));
    CHECK(verify(forge("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", good, "HS256", SECRET), &why) == -1);
    /* A wrong key. */
    CHECK(verify(forge(H256, good, "HS256", "another-secret-of-at-least-32-bytes!!"), &why) == -1);
    /* HS256 header but signed as if HS512. */
    CHECK(verify(forge(H256, good, "HS512", SECRET), &why) == -1);
    /* One flipped character of a good signature. */
    char *t = sdsim_jwt_issue(&key, USER, "user", NOW);
    size_t n = strlen(t);
    t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A';
    CHECK(verify(t, &why) == -1);
    free(t);
}

static void jwt_claims(void) {
    setup();
    const char *why = NULL;
#define REJECT(payload, reason)                                                                    \
    do {                                                                                           \
        CHECK(verify(forge(H256, payload, "HS256", SECRET), &why) == -1);                          \
        if (why && strcmp(why, reason)) fprintf(stderr, "  why: %s (want %s)\n", why, reason);     \
        CHECK(why && !strcmp(why, reason));                                                        \
    } while (0)
    REJECT(claims(NOW - 100, NOW - 1, "sdsim", "access", "user"), "expired");
    REJECT(claims(NOW + 120, NOW + 900, "sdsim", "access", "user"), "issued in the future");
    REJECT(claims(NOW, NOW + 60, "evil", "access", "user"), "wrong issuer");
    REJECT(claims(NOW, NOW + 60, "sdsim", "refresh", "user"), "not an access token");
    REJECT(claims(NOW, NOW + 60, "sdsim", "access", "root"), "unknown role");
    REJECT("{\"iss\":\"sdsim\",\"typ\":\"access\",\"role\":\"user\",\"iat\":1,\"exp\":9999999999}",
           "bad subject");
    REJECT("{\"iss\":\"sdsim\",\"sub\":\"u\",\"typ\":\"access\",\"role\":\"user\",\"iat\":1}",
           "no exp");
    /* exp as a string: libjwt reads it as 0 (expired) or not at all (no exp): refused. */
    CHECK(verify(forge(H256,
                       "{\"iss\":\"sdsim\",\"sub\":\"u\",\"typ\":\"access\",\"role\":\"user\","
                       "\"iat\":1,\"exp\":\"9999999999\"}",
                       "HS256", SECRET),
                 &why) == -1);
    REJECT("{\"iss\":\"sdsim\",\"sub\":\"u\",\"typ\":\"access\",\"role\":\"user\","
           "\"exp\":9999999999}",
           "no iat");
    /* Within the clock skew: accepted. */
    CHECK(
        verify(forge(H256, claims(NOW + 10, NOW + 60, "sdsim", "access", "user"), "HS256", SECRET),
               &why) == 0);
#undef REJECT
}

static void jwt_malformed(void) {
    setup();
    const char *why = NULL;
    const char *bad[] = {"",        "abc",    "a.b",
                         "a.b.c.d", "a..c",   ".b.c",
                         "a.b.",    "a$.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.%%%",
                         "a b.c.d", "a.b.c\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(verify(bad[i], &why) == -1);
    CHECK(verify(NULL, &why) == -1);
    /* Header or payload that is not JSON, correctly signed. */
    CHECK(
        verify(forge("not json", claims(NOW, NOW + 60, "sdsim", "access", "user"), "HS256", SECRET),
               &why) == -1);
    CHECK(verify(forge(H256, "{\"iss\":", "HS256", SECRET), &why) == -1);
    CHECK(verify(forge(H256, "[1,2,3]", "HS256", SECRET), &why) == -1);
    /* Truncated. */
    char *t = sdsim_jwt_issue(&key, USER, "user", NOW);
    for (size_t cut = 1; cut < strlen(t); cut += 7) {
        char tr[4096];
        snprintf(tr, sizeof tr, "%.*s", (int)(strlen(t) - cut), t);
        CHECK(verify(tr, &why) == -1);
    }
    free(t);
    /* Huge: refused before any parsing. */
    size_t huge = 1 << 20;
    char *big = malloc(huge + 1);
    memset(big, 'A', huge);
    big[100] = '.';
    big[200] = '.';
    big[huge] = 0;
    CHECK(verify(big, &why) == -1 && !strcmp(why, "token too long"));
    free(big);
    /* A key shorter than 32 bytes is refused. */
    sdsim_jwt_key k2;
    CHECK(sdsim_jwt_key_init(&k2, (const unsigned char *)"short", 5, NULL, 0) == -1);
}

static double now_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec * 1e3 + tv.tv_usec / 1e3;
}

static void passwords(void) {
    char h1[SDSIM_PASSWORD_HASH_MAX], h2[SDSIM_PASSWORD_HASH_MAX];
    double t0 = now_ms();
    CHECK(sdsim_password_hash("correct horse battery staple", h1, sizeof h1) == 0);
    double t1 = now_ms();
    CHECK(sdsim_password_verify(h1, "correct horse battery staple") == 1);
    double t2 = now_ms();
    printf("  argon2id (t=2, m=19 MiB, p=1): hash %.1f ms, verify %.1f ms\n", t1 - t0, t2 - t1);
    CHECK(!strncmp(h1, "$argon2id$v=19$m=19456,t=2,p=1$", 31));
    CHECK(sdsim_password_verify(h1, "correct horse battery stapl") == 0);
    CHECK(sdsim_password_verify(h1, "") == 0);
    CHECK(sdsim_password_hash("correct horse battery staple", h2, sizeof h2) == 0);
    CHECK(strcmp(h1, h2) != 0); /* salted */
    CHECK(sdsim_password_verify("$2b$10$bcrypt-is-not-ours", "x") == -1);
    CHECK(sdsim_password_verify("$argon2id$garbage", "x") == -1);
    CHECK(sdsim_password_hash("", h2, sizeof h2) == -1);
    char *longpw = malloc(SDSIM_PASSWORD_MAX + 2);
    memset(longpw, 'p', SDSIM_PASSWORD_MAX + 1);
    longpw[SDSIM_PASSWORD_MAX + 1] = 0;
    CHECK(sdsim_password_hash(longpw, h2, sizeof h2) == -1);
    free(longpw);
    CHECK(sdsim_password_hash("x", h2, 10) == -1); /* no room */
    sdsim_password_burn("first");                  /* makes its dummy hash */
    double t3 = now_ms();
    sdsim_password_burn("whatever");
    double t4 = now_ms();
    printf("  burn (unknown email): %.1f ms\n", t4 - t3);
}

static int async_hash_status = 99, async_verify = 99;
static char async_hash[SDSIM_PASSWORD_HASH_MAX];

static void on_hash(void *ud, int status, const char *encoded) {
    async_hash_status = status;
    if (encoded) snprintf(async_hash, sizeof async_hash, "%s", encoded);
}

static void on_verify(void *ud, int result) {
    *(int *)ud = result;
}

static void passwords_async(void) {
    uv_loop_t *loop = uv_default_loop();
    CHECK(sdsim_password_hash_async(loop, "s3cret!", on_hash, NULL) == 0);
    CHECK(async_hash_status == 99); /* not called inside */
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK(async_hash_status == 0);
    int ok = 99, bad = 99, burn = 99;
    sdsim_password_verify_async(loop, async_hash, "s3cret!", on_verify, &ok);
    sdsim_password_verify_async(loop, async_hash, "s3cret?", on_verify, &bad);
    sdsim_password_verify_async(loop, NULL, "s3cret!", on_verify, &burn);
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK(ok == 1 && bad == 0 && burn == 0);
    (void)async_verify;
}

static void refresh_tokens(void) {
    char t1[SDSIM_REFRESH_TOKEN_LEN + 1], t2[SDSIM_REFRESH_TOKEN_LEN + 1], h1[65], h2[65], h[65];
    CHECK(sdsim_refresh_token_new(t1, h1) == 0 && sdsim_refresh_token_new(t2, h2) == 0);
    CHECK(strlen(t1) == 43 && strlen(h1) == 64);
    CHECK(strcmp(t1, t2) != 0 && strcmp(h1, h2) != 0);
    CHECK(sdsim_refresh_token_hash(t1, h) == 0 && !strcmp(h, h1));
    CHECK(sdsim_refresh_token_hash("short", h) == -1);
    char bad[44];
    memcpy(bad, t1, 44);
    bad[5] = '+'; /* base64, not base64url */
    CHECK(sdsim_refresh_token_hash(bad, h) == -1);
    CHECK(sdsim_refresh_token_hash(NULL, h) == -1);
    /* SHA-256 of a known text: "abc" padded to a token is not needed; check one vector. */
    CHECK(sdsim_refresh_token_hash("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", h) == 0);
}

static void secret_env(void) {
    unsigned char s[SDSIM_JWT_SECRET_MAX];
    size_t n = 0;
    char err[256];
    setenv("SDSIM_JWT_SECRET", "too-short", 1);
    CHECK(sdsim_jwt_secret_load("/nonexistent", s, &n, err, sizeof err) == -1);
    CHECK(strstr(err, "shorter than 32") != NULL);
    setenv("SDSIM_JWT_SECRET", "exactly-32-bytes-long-secret-ok!", 1);
    CHECK(sdsim_jwt_secret_load("/nonexistent", s, &n, err, sizeof err) == 0 && n == 32);
    unsetenv("SDSIM_JWT_SECRET");
}

static void secret_file(void) {
    unsetenv("SDSIM_JWT_SECRET");
    char dir[] = "/tmp/sdsim-auth-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char data[300], path[400];
    snprintf(data, sizeof data, "%s/data", dir); /* created by the load */
    snprintf(path, sizeof path, "%s/jwt_secret", data);
    unsigned char s1[SDSIM_JWT_SECRET_MAX], s2[SDSIM_JWT_SECRET_MAX];
    size_t n1 = 0, n2 = 0;
    char err[256] = "";
    CHECK(sdsim_jwt_secret_load(data, s1, &n1, err, sizeof err) == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(n1 == 96);
    CHECK(sdsim_jwt_secret_load(data, s2, &n2, err, sizeof err) == 0);
    CHECK(n1 == n2 && !memcmp(s1, s2, n1)); /* the same secret on the next run */
    chmod(path, 0640);
    CHECK(sdsim_jwt_secret_load(data, s2, &n2, err, sizeof err) == 1); /* fixed */
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    chmod(path, 0644);
    CHECK(sdsim_jwt_secret_load(data, s2, &n2, err, sizeof err) == -1);
    CHECK(strstr(err, "every user") != NULL);
    chmod(path, 0600);
    /* A symbolic link is not followed. */
    char link[400];
    snprintf(link, sizeof link, "%s/link", dir);
    CHECK(mkdir(link, 0700) == 0);
    char lpath[500];
    snprintf(lpath, sizeof lpath, "%s/jwt_secret", link);
    CHECK(symlink(path, lpath) == 0);
    CHECK(sdsim_jwt_secret_load(link, s2, &n2, err, sizeof err) == -1);
    /* Too short a file. */
    FILE *f = fopen(path, "w");
    fputs("short\n", f);
    fclose(f);
    chmod(path, 0600);
    CHECK(sdsim_jwt_secret_load(data, s2, &n2, err, sizeof err) == -1);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

TEST_MAIN(TEST(jwt_roundtrip), TEST(jwt_forgeries), TEST(jwt_claims), TEST(jwt_malformed),
          TEST(passwords), TEST(passwords_async), TEST(refresh_tokens), TEST(secret_env),
          TEST(secret_file))
