/* HS256 access tokens with libjwt 1.10, and the signing secret. See host/auth.h.
 *
 * libjwt 1.10 accepts any token when jwt_decode is given no key (forged alg none included),
 * verifies a token with whatever HMAC algorithm its header names, and checks no claim: so the
 * key is always passed, the algorithm is checked here, and so is every claim. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "auth.h"

int sdsim_jwt_key_init(sdsim_jwt_key *k, const unsigned char *secret, size_t len,
                       const char *issuer, int ttl_s) {
    memset(k, 0, sizeof *k);
    if (!secret || len < SDSIM_JWT_SECRET_MIN || len > SDSIM_JWT_SECRET_MAX) return -1;
    memcpy(k->secret, secret, len);
    k->len = len;
    snprintf(k->issuer, sizeof k->issuer, "%s", issuer && *issuer ? issuer : "sdsim");
    k->ttl_s = ttl_s > 0 ? ttl_s : 900;
    return 0;
}

static int role_known(const char *r) {
    return r && (!strcmp(r, "user") || !strcmp(r, "premium") || !strcmp(r, "admin"));
}

char *sdsim_jwt_issue(const sdsim_jwt_key *k, const char *sub, const char *role, int64_t now_s) {
    if (!k->len || !sub || !*sub || strlen(sub) >= sizeof((sdsim_access_claims *)0)->sub ||
        !role_known(role))
        return NULL;
    jwt_t *jwt = NULL;
    if (jwt_new(&jwt) != 0) return NULL;
    char *out = NULL;
    if (jwt_add_grant(jwt, "iss", k->issuer) == 0 && jwt_add_grant(jwt, "sub", sub) == 0 &&
        jwt_add_grant(jwt, "typ", "access") == 0 && jwt_add_grant(jwt, "role", role) == 0 &&
        jwt_add_grant_int(jwt, "iat", (long)now_s) == 0 &&
        jwt_add_grant_int(jwt, "exp", (long)(now_s + k->ttl_s)) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS256, k->secret, (int)k->len) == 0)
        out = jwt_encode_str(jwt);
    jwt_free(jwt);
    return out;
}

/* Three non-empty base64url parts and nothing else, before any parsing. */
static int shape_ok(const char *t) {
    int dots = 0;
    size_t part = 0;
    for (const char *p = t; *p; p++) {
        if (*p == '.') {
            if (part == 0) return 0;
            dots++;
            part = 0;
        } else if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                   (*p >= '0' && *p <= '9') || *p == '-' || *p == '_') {
            part++;
        } else {
            return 0;
        }
    }
    return dots == 2 && part > 0;
}

static int grant_int(jwt_t *jwt, const char *name, int64_t *out) {
    errno = 0;
    long v = jwt_get_grant_int(jwt, name);
    if (errno != 0) return -1;
    *out = v;
    return 0;
}

static int check_claims(const sdsim_jwt_key *k, jwt_t *jwt, int64_t now_s, sdsim_access_claims *out,
                        const char **why) {
    const char *iss = jwt_get_grant(jwt, "iss"), *sub = jwt_get_grant(jwt, "sub");
    const char *typ = jwt_get_grant(jwt, "typ"), *role = jwt_get_grant(jwt, "role");
    int64_t iat, exp;
    if (grant_int(jwt, "exp", &exp) != 0) return *why = "no exp", -1;
    if (grant_int(jwt, "iat", &iat) != 0) return *why = "no iat", -1;
    if (exp <= now_s) return *why = "expired", -1;
    if (iat > now_s + SDSIM_JWT_SKEW_S) return *why = "issued in the future", -1;
    if (exp <= iat) return *why = "exp before iat", -1;
    if (!iss || strcmp(iss, k->issuer) != 0) return *why = "wrong issuer", -1;
    if (!typ || strcmp(typ, "access") != 0) return *why = "not an access token", -1;
    if (!sub || !*sub || strlen(sub) >= sizeof out->sub) return *why = "bad subject", -1;
    if (!role_known(role)) return *why = "unknown role", -1;
    memset(out, 0, sizeof *out);
    snprintf(out->sub, sizeof out->sub, "%s", sub);
    snprintf(out->role, sizeof out->role, "%s", role);
    out->iat = iat;
    out->exp = exp;
    return 0;
}

int sdsim_jwt_verify(const sdsim_jwt_key *k, const char *token, int64_t now_s,
                     sdsim_access_claims *out, const char **why) {
    const char *unused;
    if (!why) why = &unused;
    if (!k->len) return *why = "no key", -1;
    if (!token || !*token) return *why = "no token", -1;
    if (strlen(token) > SDSIM_JWT_MAX_LEN) return *why = "token too long", -1;
    if (!shape_ok(token)) return *why = "malformed token", -1;
    jwt_t *jwt = NULL;
    /* Always with the key: without one libjwt 1.10 accepts anything. */
    if (jwt_decode(&jwt, token, k->secret, (int)k->len) != 0 || !jwt) {
        if (jwt) jwt_free(jwt);
        return *why = "bad signature or malformed token", -1;
    }
    int rc;
    /* libjwt verified with the algorithm the header names: only ours will do. */
    if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
        *why = "algorithm is not HS256";
        rc = -1;
    } else {
        rc = check_claims(k, jwt, now_s, out, why);
    }
    jwt_free(jwt);
    return rc;
}

/* ---- the secret --------------------------------------------------------------------------- */

static int fail(char *err, size_t errlen, const char *fmt, const char *a, const char *b) {
    snprintf(err, errlen, fmt, a, b);
    return -1;
}

/* Creates DIR/jwt_secret (0600, exclusive) with 48 random bytes in hex. 0, 1 if another
 * process created it first (read theirs), -1. */
static int create_secret(const char *dir, const char *path, char *err, size_t errlen) {
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return fail(err, errlen, "cannot create %s: %s", dir, strerror(errno));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) return 1;
    if (fd < 0) return fail(err, errlen, "cannot create %s: %s", path, strerror(errno));
    unsigned char raw[48];
    char hex[97];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        close(fd);
        unlink(path);
        return fail(err, errlen, "%s%s: no randomness", "", path);
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    hex[96] = '\n';
    ssize_t w = write(fd, hex, sizeof hex);
    int ok = w == (ssize_t)sizeof hex && fsync(fd) == 0;
    close(fd);
    OPENSSL_cleanse(raw, sizeof raw);
    OPENSSL_cleanse(hex, sizeof hex);
    if (!ok) {
        unlink(path);
        return fail(err, errlen, "cannot write %s: %s", path, strerror(errno));
    }
    return 0;
}

/* Reads an existing secret file after checking who may read it. 0, 1 (permissions fixed),
 * -1. */
static int read_secret(const char *path, unsigned char *secret, size_t *len, char *err,
                       size_t errlen) {
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    int fixed = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, errlen, "%s%s is not a regular file", "", path);
    }
    if (st.st_uid != geteuid()) {
        close(fd);
        return fail(err, errlen, "%s%s belongs to another user: refused", "", path);
    }
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        close(fd);
        return fail(err, errlen,
                    "%s%s is accessible to every user: refused (it may have leaked; make a new"
                    " one and chmod 600 it)",
                    "", path);
    }
    if (st.st_mode & 077) {
        if (fchmod(fd, 0600) != 0) {
            close(fd);
            return fail(err, errlen, "cannot chmod 600 %s: %s", path, strerror(errno));
        }
        fixed = 1;
    }
    char buf[SDSIM_JWT_SECRET_MAX + 2];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n < 0) return fail(err, errlen, "cannot read %s: %s", path, strerror(errno));
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (n < SDSIM_JWT_SECRET_MIN || n > SDSIM_JWT_SECRET_MAX) {
        OPENSSL_cleanse(buf, sizeof buf);
        return fail(err, errlen, "%s%s: the secret must be 32 to 512 bytes", "", path);
    }
    memcpy(secret, buf, (size_t)n);
    *len = (size_t)n;
    OPENSSL_cleanse(buf, sizeof buf);
    return fixed;
}

int sdsim_jwt_secret_load(const char *data_dir, unsigned char *secret, size_t *len, char *err,
                          size_t errlen) {
    const char *env = getenv("SDSIM_JWT_SECRET");
    if (env && *env) {
        size_t n = strlen(env);
        if (n < SDSIM_JWT_SECRET_MIN)
            return fail(err, errlen, "SDSIM_JWT_SECRET is shorter than 32 bytes: refused%s%s", "",
                        "");
        if (n > SDSIM_JWT_SECRET_MAX)
            return fail(err, errlen, "SDSIM_JWT_SECRET is longer than 512 bytes%s%s", "", "");
        memcpy(secret, env, n);
        *len = n;
        return 0;
    }
    const char *dir = data_dir && *data_dir ? data_dir : ".";
    char path[4096];
    snprintf(path, sizeof path, "%s/jwt_secret", dir);
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT) return fail(err, errlen, "cannot stat %s: %s", path, strerror(errno));
        if (create_secret(dir, path, err, errlen) < 0) return -1;
    }
    return read_secret(path, secret, len, err, errlen);
}
