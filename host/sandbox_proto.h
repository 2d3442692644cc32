/* The wire format between a sandbox's parent (the host) and its child process.
 *
 * Every message is one frame: a 4-byte little-endian length N, then N bytes made of a 1-byte
 * type and the payload. Payload fields are u32 (little-endian) and strings (u32 length, then
 * the bytes, no NUL). Frames from the child are untrusted: the reader bounds their size and
 * every field access is bounds-checked. The writer can work in a fixed buffer so that the
 * child's signal handler can build a frame without allocating. */
#pragma once
#include <stddef.h>
#include <stdint.h>

enum {
    SDSIM_MSG_READY = 1,  /* child -> parent: the Lua state is built, send work (no payload) */
    SDSIM_MSG_RUN = 2,    /* parent -> child: u32 flags, u32 cpu_ms, str name, str source */
    SDSIM_MSG_OUTPUT = 3, /* child -> parent: str text written by print */
    SDSIM_MSG_RESULT = 4, /* child -> parent: u32 status, u32 line, str file, str message,
                             str values (the chunk's return values through tostring) */
    SDSIM_MSG_WHERE = 5,  /* child -> parent, from the CPU-stop signal handler: u32 line,
                             str file (where the code was when it was stopped) */
};

/* A growable (or fixed, when fixed != 0) output buffer. Once a write does not fit, `failed`
 * is set and later writes are ignored, so a caller checks once at the end. */
typedef struct sdsim_proto_buf {
    char *data;
    size_t len, cap;
    int fixed, failed;
} sdsim_proto_buf;

void sdsim_proto_buf_init_fixed(sdsim_proto_buf *b, char *mem, size_t cap);
void sdsim_proto_buf_free(sdsim_proto_buf *b);
/* Begins a frame of `type`; sdsim_proto_end fills in its length. Returns the frame's start. */
size_t sdsim_proto_begin(sdsim_proto_buf *b, int type);
void sdsim_proto_end(sdsim_proto_buf *b, size_t start);
void sdsim_proto_put_u32(sdsim_proto_buf *b, uint32_t v);
void sdsim_proto_put_str(sdsim_proto_buf *b, const char *s, size_t len);
void sdsim_proto_put_cstr(sdsim_proto_buf *b, const char *s);
/* Drops the first n bytes (already sent). */
void sdsim_proto_consume(sdsim_proto_buf *b, size_t n);

/* Splits a byte stream into frames. */
typedef struct sdsim_proto_reader {
    char *data;
    size_t len, cap;
    size_t max_frame; /* a longer frame is a protocol error */
} sdsim_proto_reader;

void sdsim_proto_reader_init(sdsim_proto_reader *r, size_t max_frame);
void sdsim_proto_reader_free(sdsim_proto_reader *r);
/* Where to read into (at least `want` free bytes); NULL when out of memory. */
char *sdsim_proto_reader_space(sdsim_proto_reader *r, size_t want);
void sdsim_proto_reader_commit(sdsim_proto_reader *r, size_t n);
/* The first complete frame: 1 with type, payload and len set (valid until the reader changes),
 * 0 when more bytes are needed, -1 when the stream is malformed. sdsim_proto_reader_pop drops
 * that frame once it has been handled. */
int sdsim_proto_next(sdsim_proto_reader *r, int *type, const char **payload, size_t *len);
void sdsim_proto_reader_pop(sdsim_proto_reader *r);

/* Reading fields out of one payload; any overrun sets `failed`. */
typedef struct sdsim_proto_cursor {
    const char *p;
    size_t left;
    int failed;
} sdsim_proto_cursor;

uint32_t sdsim_proto_get_u32(sdsim_proto_cursor *c);
/* A string field: points into the payload (not NUL-terminated), length in *len. */
const char *sdsim_proto_get_str(sdsim_proto_cursor *c, size_t *len);
/* Copies a string field into dst (truncated to dstlen - 1, NUL-terminated). */
void sdsim_proto_get_cstr(sdsim_proto_cursor *c, char *dst, size_t dstlen);
