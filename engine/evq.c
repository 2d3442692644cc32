/* The event heap's memory (push and pop are inline in evq.h).
 *
 * Layout: the array is allocated 64-byte aligned and the root lives 3 slots past its start,
 * so the four 32-byte children of any node (4i+1 .. 4i+4) sit in exactly two cache lines. */
#include "evq.h"

#include <stdlib.h>
#include <string.h>

#define EVQ_PAD 3 /* slots before the root, for the cache-line alignment above */

static sim_event *alloc_slots(uint32_t cap) {
    size_t bytes = ((size_t)cap + EVQ_PAD) * sizeof(sim_event);
    bytes = (bytes + 63) & ~(size_t)63;
    sim_event *base = aligned_alloc(64, bytes);
    return base ? base + EVQ_PAD : NULL;
}

static void free_slots(sim_event *heap) {
    if (heap) free(heap - EVQ_PAD);
}

int sim_evq_init(sim_evq *q, uint32_t initial_cap) {
    if (initial_cap < 64) initial_cap = 64;
    q->heap = alloc_slots(initial_cap);
    q->size = 0;
    q->cap = q->heap ? initial_cap : 0;
    q->next_seq = 0;
    return q->heap ? 0 : -1;
}

void sim_evq_free(sim_evq *q) {
    free_slots(q->heap);
    q->heap = NULL;
    q->size = q->cap = 0;
}

int sim__evq_grow(sim_evq *q) {
    if (q->cap >= UINT32_MAX / 2) return -1;
    uint32_t cap = q->cap ? q->cap * 2 : 64;
    sim_event *heap = alloc_slots(cap);
    if (!heap) return -1;
    if (q->size) memcpy(heap, q->heap, (size_t)q->size * sizeof(sim_event));
    free_slots(q->heap);
    q->heap = heap;
    q->cap = cap;
    return 0;
}
