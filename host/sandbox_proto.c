/* Length-prefixed frames for the sandbox's parent/child socket (see sandbox_proto.h). */
#include "sandbox_proto.h"

#include <stdlib.h>
#include <string.h>

void sdsim_proto_buf_init_fixed(sdsim_proto_buf *b, char *mem, size_t cap) {
    b->data = mem;
    b->len = 0;
    b->cap = cap;
    b->fixed = 1;
    b->failed = 0;
}

void sdsim_proto_buf_free(sdsim_proto_buf *b) {
    if (!b->fixed) free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

/* Makes room for n more bytes; 0 on success. */
static int reserve(sdsim_proto_buf *b, size_t n) {
    if (b->failed) return -1;
    if (b->len + n <= b->cap) return 0;
    if (b->fixed || n > SIZE_MAX / 2 - b->len) {
        b->failed = 1;
        return -1;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->failed = 1;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

static void put_bytes(sdsim_proto_buf *b, const void *p, size_t n) {
    if (reserve(b, n) == 0) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
}

static void store_u32(char *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (char)((v >> (8 * i)) & 0xff);
}

static uint32_t load_u32(const char *p) {
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

void sdsim_proto_put_u32(sdsim_proto_buf *b, uint32_t v) {
    char tmp[4];
    store_u32(tmp, v);
    put_bytes(b, tmp, 4);
}

void sdsim_proto_put_str(sdsim_proto_buf *b, const char *s, size_t len) {
    if (len > UINT32_MAX) {
        b->failed = 1;
        return;
    }
    sdsim_proto_put_u32(b, (uint32_t)len);
    put_bytes(b, s, len);
}

void sdsim_proto_put_cstr(sdsim_proto_buf *b, const char *s) {
    sdsim_proto_put_str(b, s ? s : "", s ? strlen(s) : 0);
}

size_t sdsim_proto_begin(sdsim_proto_buf *b, int type) {
    size_t start = b->len;
    sdsim_proto_put_u32(b, 0); /* patched by sdsim_proto_end */
    char t = (char)type;
    put_bytes(b, &t, 1);
    return start;
}

void sdsim_proto_end(sdsim_proto_buf *b, size_t start) {
    if (b->failed) return;
    size_t n = b->len - start - 4;
    if (n > UINT32_MAX) {
        b->failed = 1;
        return;
    }
    store_u32(b->data + start, (uint32_t)n);
}

void sdsim_proto_consume(sdsim_proto_buf *b, size_t n) {
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void sdsim_proto_reader_init(sdsim_proto_reader *r, size_t max_frame) {
    memset(r, 0, sizeof *r);
    r->max_frame = max_frame;
}

void sdsim_proto_reader_free(sdsim_proto_reader *r) {
    free(r->data);
    memset(r, 0, sizeof *r);
}

char *sdsim_proto_reader_space(sdsim_proto_reader *r, size_t want) {
    if (r->cap - r->len < want) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap - r->len < want)
            cap *= 2;
        char *d = realloc(r->data, cap);
        if (!d) return NULL;
        r->data = d;
        r->cap = cap;
    }
    return r->data + r->len;
}

void sdsim_proto_reader_commit(sdsim_proto_reader *r, size_t n) {
    r->len += n;
}

int sdsim_proto_next(sdsim_proto_reader *r, int *type, const char **payload, size_t *len) {
    static const size_t header = 4;
    if (r->len < header) return 0;
    uint32_t n = load_u32(r->data);
    if (n < 1 || n > r->max_frame) return -1;
    if (r->len < header + n) return 0;
    *type = (unsigned char)r->data[header];
    *payload = r->data + header + 1;
    *len = n - 1;
    return 1;
}

void sdsim_proto_reader_pop(sdsim_proto_reader *r) {
    if (r->len < 4) return;
    size_t n = 4 + (size_t)load_u32(r->data);
    if (n > r->len) n = r->len;
    memmove(r->data, r->data + n, r->len - n);
    r->len -= n;
}

uint32_t sdsim_proto_get_u32(sdsim_proto_cursor *c) {
    if (c->failed || c->left < 4) {
        c->failed = 1;
        return 0;
    }
    uint32_t v = load_u32(c->p);
    c->p += 4;
    c->left -= 4;
    return v;
}

const char *sdsim_proto_get_str(sdsim_proto_cursor *c, size_t *len) {
    uint32_t n = sdsim_proto_get_u32(c);
    if (c->failed || n > c->left) {
        c->failed = 1;
        *len = 0;
        return "";
    }
    const char *s = c->p;
    c->p += n;
    c->left -= n;
    *len = n;
    return s;
}

void sdsim_proto_get_cstr(sdsim_proto_cursor *c, char *dst, size_t dstlen) {
    size_t n;
    const char *s = sdsim_proto_get_str(c, &n);
    if (dstlen == 0) return;
    if (n >= dstlen) n = dstlen - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}
