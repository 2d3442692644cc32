/* Password hashing with argon2id (libargon2). See host/auth.h. */
#include <stdlib.h>
#include <string.h>
#include <argon2.h>
#include <openssl/rand.h>
#include <uv.h>
#include "auth.h"

#define SALT_LEN 16
#define HASH_LEN 32

static sdsim_password_params params = {2, 19456, 1};

void sdsim_password_set_params(const sdsim_password_params *p) {
    params = *p;
}
sdsim_password_params sdsim_password_get_params(void) {
    return params;
}

static int password_ok(const char *pw) {
    if (!pw) return 0;
    size_t n = strlen(pw);
    return n > 0 && n <= SDSIM_PASSWORD_MAX;
}

int sdsim_password_hash(const char *password, char *out, size_t cap) {
    if (!password_ok(password)) return -1;
    sdsim_password_params p = params;
    if (argon2_encodedlen(p.t_cost, p.m_cost_kib, p.lanes, SALT_LEN, HASH_LEN, Argon2_id) > cap)
        return -1;
    unsigned char salt[SALT_LEN];
    if (RAND_bytes(salt, sizeof salt) != 1) return -1;
    int rc = argon2id_hash_encoded(p.t_cost, p.m_cost_kib, p.lanes, password, strlen(password),
                                   salt, SALT_LEN, HASH_LEN, out, cap);
    return rc == ARGON2_OK ? 0 : -1;
}

int sdsim_password_verify(const char *encoded, const char *password) {
    if (!encoded || strncmp(encoded, "$argon2id$", 10) != 0) return -1;
    if (!password_ok(password)) return 0;
    /* argon2id_verify recomputes with the hash's own salt and parameters and compares in
     * constant time. */
    int rc = argon2id_verify(encoded, password, strlen(password));
    if (rc == ARGON2_OK) return 1;
    if (rc == ARGON2_VERIFY_MISMATCH) return 0;
    return -1;
}

/* A hash made once with the parameters of the time; verifying against it costs what a real
 * verify costs. */
static char dummy[SDSIM_PASSWORD_HASH_MAX];
static uv_once_t dummy_once = UV_ONCE_INIT;

static void make_dummy(void) {
    if (sdsim_password_hash("sdsim-burn", dummy, sizeof dummy) != 0) dummy[0] = 0;
}

void sdsim_password_burn(const char *password) {
    uv_once(&dummy_once, make_dummy);
    if (dummy[0]) sdsim_password_verify(dummy, password_ok(password) ? password : "x");
}

/* ---- on the thread pool ------------------------------------------------------------------- */

typedef struct pw_work {
    uv_work_t req;
    char *password, *encoded;
    int result;
    char out[SDSIM_PASSWORD_HASH_MAX];
    sdsim_password_hash_cb hash_cb;
    sdsim_password_verify_cb verify_cb;
    void *ud;
} pw_work;

static void wipe_free(char *s) {
    if (!s) return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

static void hash_work(uv_work_t *req) {
    pw_work *w = req->data;
    w->result = sdsim_password_hash(w->password, w->out, sizeof w->out);
}

static void verify_work(uv_work_t *req) {
    pw_work *w = req->data;
    if (w->encoded) {
        w->result = sdsim_password_verify(w->encoded, w->password);
    } else {
        sdsim_password_burn(w->password);
        w->result = 0;
    }
}

static void after(uv_work_t *req, int status) {
    pw_work *w = req->data;
    if (status != 0) w->result = -1; /* cancelled */
    if (w->hash_cb) w->hash_cb(w->ud, w->result, w->result == 0 ? w->out : NULL);
    if (w->verify_cb) w->verify_cb(w->ud, w->result);
    wipe_free(w->password);
    free(w->encoded);
    OPENSSL_cleanse(w->out, sizeof w->out);
    free(w);
}

static pw_work *work_new(const char *password, void *ud) {
    pw_work *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->password = strdup(password ? password : "");
    w->ud = ud;
    w->req.data = w;
    return w;
}

int sdsim_password_hash_async(uv_loop_t *loop, const char *password, sdsim_password_hash_cb cb,
                              void *ud) {
    pw_work *w = work_new(password, ud);
    if (!w) return -1;
    w->hash_cb = cb;
    return uv_queue_work(loop, &w->req, hash_work, after) == 0 ? 0 : -1;
}

int sdsim_password_verify_async(uv_loop_t *loop, const char *encoded, const char *password,
                                sdsim_password_verify_cb cb, void *ud) {
    pw_work *w = work_new(password, ud);
    if (!w) return -1;
    w->encoded = encoded ? strdup(encoded) : NULL;
    w->verify_cb = cb;
    return uv_queue_work(loop, &w->req, verify_work, after) == 0 ? 0 : -1;
}
