/* The future-event list: a 4-ary min-heap of (time, sequence, payload) kept in one array.
 * Ties in time are broken by the sequence number given at push, so a run is deterministic.
 * Times must not be negative (they are compared through their bit patterns, see evq.c).
 * The array grows by doubling (amortised, never per event once warm). */
#pragma once
#include <stdint.h>

typedef struct sim_event {
    double time;   /* seconds of simulated time */
    uint64_t seq;  /* insertion order: the tie-breaker */
    uint32_t kind; /* what happens (the engine's own enum) */
    uint32_t a;    /* payload: e.g. a request index */
    uint64_t b;    /* payload: e.g. a station/replica or a generation counter */
} sim_event;

typedef struct sim_evq {
    sim_event *heap;
    uint32_t size, cap;
    uint64_t next_seq;
} sim_evq;

int sim_evq_init(sim_evq *q, uint32_t initial_cap); /* 0, or -1 when out of memory */
void sim_evq_free(sim_evq *q);
/* Pushes an event; its seq is assigned here. Returns 0, or -1 when out of memory. */
int sim_evq_push(sim_evq *q, double time, uint32_t kind, uint32_t a, uint64_t b);
/* Pops the earliest event into *out. Returns 0, or -1 when empty. */
int sim_evq_pop(sim_evq *q, sim_event *out);
static inline int sim_evq_empty(const sim_evq *q) { return q->size == 0; }
static inline double sim_evq_peek_time(const sim_evq *q) { return q->heap[0].time; }
