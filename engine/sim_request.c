/* The request pool: requests live in fixed chunks (pointers stay valid while the pool grows)
 * and come back through a free list, so a warm run never allocates. The pool has a limit: an
 * overloaded design (arrivals faster than service, unbounded queues) fails cleanly with a
 * message instead of eating the machine's memory. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "sim_internal.h"

static int add_chunk(sim_run *r) {
    if (r->nchunks == r->cap_chunks) {
        uint32_t cap = r->cap_chunks ? r->cap_chunks * 2 : 16;
        sim_req **c = realloc(r->chunks, cap * sizeof *c);
        if (!c) return -1;
        r->chunks = c;
        r->cap_chunks = cap;
    }
    sim_req *chunk = malloc(SIM_POOL_CHUNK * sizeof *chunk);
    if (!chunk) return -1;
    r->chunks[r->nchunks++] = chunk;
    return 0;
}

uint32_t sim__req_alloc(sim_run *r) {
    uint32_t i = r->free_head;
    if (i != SIM_NONE) {
        r->free_head = REQ(r, i)->next;
    } else {
        if (r->used >= r->limit || (r->used == r->nchunks * SIM_POOL_CHUNK && add_chunk(r))) {
            if (!r->err[0])
                snprintf(r->err, sizeof r->err,
                         "request pool exhausted: the design is overloaded (%u requests in "
                         "flight at t=%.3f s; arrivals outpace service or queues are unbounded)",
                         r->live, r->now);
            return SIM_NONE;
        }
        i = r->used++;
    }
    r->live++;
    sim_req *q = REQ(r, i);
    q->epoch = ++r->serial;
    q->token = q->ptoken = q->call_id = 0;
    q->next = SIM_NONE;
    q->parent = SIM_NONE;
    q->edge = q->via_edge = -1;
    q->pending = q->call_pos = 0;
    q->attempt = 0;
    q->at = AT_NONE;
    q->chstate = CH_FLIGHT;
    q->ok = 1;
    q->fail_why = FAIL_ERROR;
    q->wl = -1;
    return i;
}

void sim__req_free(sim_run *r, uint32_t i) {
    sim_req *q = REQ(r, i);
    q->call_id = 0; /* pending timeouts and returns for it become stale */
    q->token = 0;
    q->epoch = 0;
    q->at = AT_NONE; /* a crash's pool scan skips it */
    q->next = r->free_head;
    r->free_head = i;
    r->live--;
}

void sim__pool_free(sim_run *r) {
    for (uint32_t c = 0; c < r->nchunks; c++)
        free(r->chunks[c]);
    free(r->chunks);
    r->chunks = NULL;
    r->nchunks = r->cap_chunks = 0;
}

/* Large per-component arrays (components, histograms, response buffers) come zeroed from
 * anonymous memory; from 4 MB on they ask for huge pages, because in designs with many
 * components nearly every event touches another component and 4 KB pages then cost a TLB
 * miss (a nested page walk on a VM) each time. Small ones stay lazily backed. */
void *sim__big_alloc(size_t bytes) {
    if (bytes == 0) bytes = 1;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    if (bytes >= (4u << 20)) madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

void sim__big_free(void *p, size_t bytes) {
    if (p) munmap(p, bytes ? bytes : 1);
}
