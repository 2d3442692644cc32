/* Accounts' cryptography: password hashing, access tokens, refresh tokens, the signing secret.
 *
 * - Passwords: argon2id (libargon2), an encoded hash carrying its own salt and parameters
 *   ($argon2id$v=19$m=19456,t=2,p=1$…), verified in constant time. Hashing and verifying are
 *   deliberately slow (~60 ms): the server must run them off the loop, with the _async
 *   functions (uv_queue_work) or on its own worker thread; the sync functions are for that
 *   and for the CLI.
 * - Access tokens: HS256 JWTs (libjwt), short-lived. Verification always gives libjwt the key
 *   and then checks what libjwt 1.10 does not: alg is exactly HS256 (alg none and HS384/512
 *   with the same key are refused), exp is in the future, iat is not in the future beyond a
 *   small skew, iss is ours, typ is "access", sub is a user id and role is known.
 * - Refresh tokens: 32 random bytes (OpenSSL RAND_bytes), base64url (43 characters); only
 *   their SHA-256 is stored (host/store.h does the rotation and family revocation).
 * - The signing secret: SDSIM_JWT_SECRET (refused if shorter than 32 bytes), or else a file
 *   DATA_DIR/jwt_secret created 0600 on first run with 48 random bytes (hex). A group-readable
 *   file is fixed to 0600; a world-accessible one, or one owned by someone else, is refused
 *   (it may have leaked). docs/auth.md says why. */
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef struct uv_loop_s uv_loop_t;

/* ---- passwords ---------------------------------------------------------------------------- */

#define SDSIM_PASSWORD_MAX 1024 /* longer passwords are refused (hashing cost is per byte) */
#define SDSIM_PASSWORD_HASH_MAX 160

typedef struct sdsim_password_params {
    uint32_t t_cost;     /* passes (default 2) */
    uint32_t m_cost_kib; /* memory in KiB (default 19456 = 19 MiB, OWASP's argon2id minimum) */
    uint32_t lanes;      /* parallelism (default 1) */
} sdsim_password_params;

/* Process-wide; for tests (cheaper hashes) and tuning. Existing hashes keep their own. */
void sdsim_password_set_params(const sdsim_password_params *p);
sdsim_password_params sdsim_password_get_params(void);

/* Writes the encoded hash (NUL-terminated) to out. 0, or -1 (empty or too long password,
 * random source or memory failure). SLOW: not on the loop thread. */
int sdsim_password_hash(const char *password, char *out, size_t cap);
/* 1 the password matches, 0 it does not, -1 the hash is malformed / not argon2id. SLOW. */
int sdsim_password_verify(const char *encoded, const char *password);
/* Costs what a verify costs, for logins of unknown emails (no timing oracle for which
 * accounts exist). SLOW. */
void sdsim_password_burn(const char *password);

/* The same on libuv's thread pool; the callback runs on the loop thread. hash: status 0 and
 * the encoded hash, or -1 and NULL. verify: result as sdsim_password_verify; encoded NULL
 * burns the time of a verify and answers 0. Arguments are copied. */
typedef void (*sdsim_password_hash_cb)(void *ud, int status, const char *encoded);
typedef void (*sdsim_password_verify_cb)(void *ud, int result);
int sdsim_password_hash_async(uv_loop_t *loop, const char *password, sdsim_password_hash_cb cb,
                              void *ud);
int sdsim_password_verify_async(uv_loop_t *loop, const char *encoded, const char *password,
                                sdsim_password_verify_cb cb, void *ud);

/* ---- the signing secret ------------------------------------------------------------------- */

#define SDSIM_JWT_SECRET_MIN 32
#define SDSIM_JWT_SECRET_MAX 512

/* Fills secret (len bytes) from SDSIM_JWT_SECRET or DATA_DIR/jwt_secret (created if missing,
 * the directory too). 0 ok, 1 ok after fixing the file's permissions (say so in the log),
 * -1 refused with a reason in err. */
int sdsim_jwt_secret_load(const char *data_dir, unsigned char *secret, size_t *len, char *err,
                          size_t errlen);

/* ---- access tokens ------------------------------------------------------------------------ */

#define SDSIM_JWT_MAX_LEN 4096 /* longer tokens are refused unread */
#define SDSIM_JWT_SKEW_S 30    /* how far iat may be in the future (clock differences) */

typedef struct sdsim_jwt_key {
    unsigned char secret[SDSIM_JWT_SECRET_MAX];
    size_t len;
    char issuer[128]; /* default "sdsim" */
    int ttl_s;        /* access token lifetime (default 900 = 15 minutes) */
} sdsim_jwt_key;

typedef struct sdsim_access_claims {
    char sub[40];  /* the user id */
    char role[16]; /* user | premium | admin */
    int64_t iat, exp;
} sdsim_access_claims;

/* Sets up a key from a secret; issuer NULL = "sdsim", ttl_s <= 0 = 900. -1 if the secret is
 * shorter than SDSIM_JWT_SECRET_MIN or longer than SDSIM_JWT_SECRET_MAX. */
int sdsim_jwt_key_init(sdsim_jwt_key *k, const unsigned char *secret, size_t len,
                       const char *issuer, int ttl_s);
/* A signed token for user sub with role, issued at now_s (seconds), expiring ttl_s later.
 * Returns a malloc'd string (free()), or NULL. */
char *sdsim_jwt_issue(const sdsim_jwt_key *k, const char *sub, const char *role, int64_t now_s);
/* 0 and the claims if the token is valid at now_s; -1 otherwise, with a short reason in *why
 * (a static string, safe to log, never echoing the token). Every -1 is a 401. */
int sdsim_jwt_verify(const sdsim_jwt_key *k, const char *token, int64_t now_s,
                     sdsim_access_claims *out, const char **why);

/* ---- refresh tokens ----------------------------------------------------------------------- */

#define SDSIM_REFRESH_TOKEN_LEN 43 /* base64url of 32 bytes, no padding */

/* A new token (what the client keeps) and its hash (what the store keeps). 0 or -1. */
int sdsim_refresh_token_new(char token[SDSIM_REFRESH_TOKEN_LEN + 1], char hash_hex[65]);
/* The hash of a token a client sent; -1 if it is not shaped like one of ours. */
int sdsim_refresh_token_hash(const char *token, char hash_hex[65]);
